"""The approval step of the guarded workflow: who said yes to this plan, and how we know.

- Not protected: no approval (an `--approve` given anyway must still name a valid recorded plan).
- Under an AI agent (`policy.agent_marker`): `--approve ID` must name a recorded plan AND the
  environment must carry a single-use proof (`proof.APPROVAL_VARIABLE`) that only the plugin's
  approval gate mints, after the person accepted Claude Code's prompt for exactly that command.
  No proof, a spent one, or one for another plan is refused, whatever shape the command had.
- A person at a terminal: `--approve ID` of a recorded plan, or the plan shown and the environment
  name typed (up to three tries; Ctrl-C or Ctrl-D cancels).
- Anyone else (CI): `--approve ID` of a recorded plan.
Confirmations the plan needs (`--restore-backup ID` when a rollback would undo more than asked: in
every environment; `--allow-destructive` in protected ones) are checked before anyone is asked, and the
plan is spent (marked used) only once everything agreed.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from faber_db import plans
from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.plans import Plan, PlanRecord
    from faber_db.workflow import GuardedOperation, Run

PROMPT_TRIES = 3


def approve(operation: GuardedOperation, run: Run) -> None:
    target, request, plan = run.require_target(), run.request, run.plan
    assert plan is not None
    command = operation.command(run)
    with run.steps.run("approval") as step:
        if plan.blocked:
            raise FaberError("OPERATION_BLOCKED",
                             f"The plan has statements never allowed through automation: {', '.join(plan.blocked)}",
                             "Run those statements by hand, with a DBA, outside faber-db; nothing was changed.")
        entry: PlanRecord | None = None
        if request.approve is not None:
            entry = plans.check(run.root, request.approve, plan.binding, command=command)
            plan.plan_id = entry.plan_id
        _check_confirmations(plan, run)
        if not run.protected:
            step.message = "not a protected environment"
            _spend(run, plan, entry)
            return
        _check_destructive(plan, run)
        from faber_db.policy import agent_marker

        agent = agent_marker(os.environ)
        if agent is not None:
            run.approved_by = _agent_approval(run, entry, command, agent)
        elif entry is not None:
            run.approved_by = "--approve"
        elif _interactive():
            run.approved_by = _prompt(run, plan, command)
        else:
            raise FaberError(
                "APPROVAL_REQUIRED",
                f"{target.name} is protected: {operation.name} needs a person's approval of a previewed plan; "
                "nothing was changed",
                f"Preview with `{command} --dry-run`, show the plan to the person, and with their yes run the "
                "command it prints (`--approve <plan id>`).")
        _spend(run, plan, entry)
        step.message = f"plan {plan.plan_id} approved ({run.approved_by})"


def _spend(run: Run, plan: Plan, entry: PlanRecord | None) -> None:
    """Mark the plan used before anything changes. A plan approved without a dry run (an unprotected
    environment, or typed at the terminal) is recorded already spent, so the audit names it too."""
    from faber_db import audit

    if entry is None:
        entry = plans.record(run.root, plan, ttl_hours=run.require_target().loaded.config.safety.plan_ttl_hours,
                             audit_head=audit.head(run.root))
        plan.plan_id = entry.plan_id
    plans.mark_used(run.root, entry)


def _check_confirmations(plan: Plan, run: Run) -> None:
    """A plan that does more than was asked (a rollback restoring an older backup) needs that named,
    in every environment: it is a question of scope, not of protection."""
    missing = {flag: why for flag, why in plan.required_flags.items() if flag not in run.request.flags}
    if missing:
        reasons = "; ".join(f"{flag.replace('=', ' ')}: {why}" for flag, why in missing.items())
        flags = " ".join(flag.replace("=", " ") for flag in missing)
        raise FaberError(
            "CONFIRMATION_REQUIRED",
            f"The plan needs an explicit confirmation ({reasons}); nothing was changed",
            f"Show this to the person; if they agree, run the approved command again with {flags}.")


def _check_destructive(plan: Plan, run: Run) -> None:
    if plan.destructive and not run.request.allow_destructive:
        raise FaberError(
            "DESTRUCTIVE_CHANGE",
            f"The plan for {run.require_target().name} has destructive statements; nothing was changed",
            "Show the findings (with their row counts) to the person; if they agree, run the approved command "
            "again with --allow-destructive.")


def _agent_approval(run: Run, entry: PlanRecord | None, command: str, agent: str) -> str:
    from faber_db import proof

    how = ("In Claude Code, run the dry run's command exactly as printed (`... --approve <plan id>`): "
           "faber-db's approval gate asks the person and the command they accept carries their yes. "
           f"Or the person runs `{command} --approve <plan id>` in their own terminal.")
    if entry is None:
        raise FaberError(
            "APPROVAL_REQUIRED",
            f"{run.require_target().name} is protected and faber-db is running under an AI agent ({agent}): "
            "only a previewed plan the person approved can be applied; nothing was changed",
            f"Preview with `{command} --dry-run` and show the plan to the person. {how}")
    token = os.environ.get(proof.APPROVAL_VARIABLE, "")
    if not token:
        raise FaberError(
            "APPROVAL_REQUIRED",
            f"Running under an AI agent ({agent}) without the person's approval of plan {entry.plan_id}; "
            "nothing was changed", how)
    try:
        proof.verify_and_spend(token, plan_id=entry.plan_id, environment=entry.environment,
                               project_root=run.root)
    except proof.ProofRejected as exc:
        raise FaberError(
            "APPROVAL_REQUIRED",
            f"The approval carried with this command was refused ({exc.reason}); nothing was changed", how
        ) from None
    return "the person, through Claude Code's prompt (approval gate)"


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _prompt(run: Run, plan: Plan, command: str, stdin: TextIO | None = None, stderr: TextIO | None = None) -> str:
    """Show the plan, then ask for the environment name (or an alias); Ctrl-C / Ctrl-D / Enter cancel."""
    from faber_db.output import progress_paused

    with progress_paused():  # no live progress line drawn over the question
        return _ask(run, plan, command, stdin or sys.stdin, stderr or sys.stderr)


def _ask(run: Run, plan: Plan, command: str, stdin: TextIO, stderr: TextIO) -> str:
    target = run.require_target()
    names = (target.name, *target.env.aliases)
    stderr.write(f"\n{plan.title}\n" + "".join(f"  {line}\n" for line in plan.summary) + "\n")
    expected = target.name + (f" (or {', '.join(target.env.aliases)})" if target.env.aliases else "")
    for attempt in range(1, PROMPT_TRIES + 1):
        stderr.write(f"Type {expected} to go ahead, or press Enter to cancel: ")
        stderr.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:  # Ctrl-C: the terminal echoed ^C and no newline; the result starts a line
            stderr.write("\n")
            raise
        if not line:  # Ctrl-D: end of input
            stderr.write("\n")
            raise KeyboardInterrupt
        typed = line.strip()
        if typed in names:
            return "typed at the terminal"
        if not typed:
            raise KeyboardInterrupt
        left = PROMPT_TRIES - attempt
        stderr.write(f"You typed {typed!r}, not {target.name!r}." + (f" {left} more tries.\n" if left else "\n"))
    raise FaberError("APPROVAL_REQUIRED", f"The environment name was not typed; {target.name} was not changed",
                     f"Run `{command}` again and type {target.name} when asked, or press Enter to cancel.")


# --- which environments count as protected ---------------------------------------------------------

_OVERRIDES = ("FABER_DB_CONFIG", "CLAUDE_DB_CWD")
_REGISTRY_LIMIT = 10_000


def effective_protection(run: Run) -> tuple[bool, str | None]:
    """Whether the target is protected, and why when its own config says it is not.

    The config says so, or (under an AI agent, where the config, the variables and `--project` are all
    things the agent can change for one command) any of: the config that governs the working folder
    without FABER_DB_CONFIG, CLAUDE_DB_CWD or --project protects an environment of that name or on the
    same database; another protected environment's URL points at the same database; or this machine has
    seen the database configured as protected before (`registry`). Outside an agent the config decides,
    and the registry follows it."""
    from faber_db.policy import agent_marker

    target = run.require_target()
    identity = _identity(target.provider, target.url, target.handler.schema_dir)
    protected_ids = _protected_identities(run)
    registry = _Registry.load()
    under_agent = agent_marker(os.environ) is not None
    if under_agent:
        registry.record(protected_ids, unprotected=set(), heal=False)
    else:
        registry.record(protected_ids, unprotected=_unprotected_identities(run) - set(protected_ids), heal=True)
    if target.env.protected:
        return True, None
    if not under_agent:
        return False, None
    if registry.tampered:
        return True, "this machine's record of protected databases was edited, so every database counts as protected"
    if identity in protected_ids:
        return True, f"it is the same database as the protected environment {protected_ids[identity]}"
    governing = _governing(run)
    if governing is not None and governing.is_protected(target.name):
        return True, f"the project's own config ({governing.source}) protects {target.name}"
    if identity in registry.identities:
        return True, (f"this machine knows the database as the protected environment "
                      f"{registry.identities[identity]}")
    return False, None


def _identity(provider: str, url: str, schema_dir: Any) -> str:
    from faber_db.engines import database_identity

    return database_identity(provider, url, schema_dir)


def _environment_urls(run: Run, protected: bool) -> dict[str, str]:
    """identity -> environment name, for the loaded config's environments whose URL is set."""
    target = run.require_target()
    found: dict[str, str] = {}
    for name, env in target.loaded.config.environments.items():
        url = os.environ.get(env.url_env, "").strip()
        if env.protected == protected and url:
            try:
                found[_identity(target.provider, url, target.handler.schema_dir)] = name
            except FaberError:
                continue
    return found


def _protected_identities(run: Run) -> dict[str, str]:
    found = _environment_urls(run, protected=True)
    governing = _governing(run)
    target = run.require_target()
    if governing is not None:
        for env in governing.environments.values():
            url = os.environ.get(env.url_env, "").strip()
            if env.protected and url:
                try:
                    found.setdefault(_identity(target.provider, url, target.handler.schema_dir), env.name)
                except FaberError:
                    continue
    return found


def _unprotected_identities(run: Run) -> set[str]:
    return set(_environment_urls(run, protected=False))


def _governing(run: Run) -> Any:
    """The protection the project's own config gives, found from the working folder without the
    overrides an agent could set for one command; None when it is the config already loaded."""
    from pathlib import Path

    from faber_db import policy

    environ = {k: v for k, v in os.environ.items() if k not in _OVERRIDES}
    root, _searched = policy.find_project_root(Path.cwd(), environ)
    if root is None:
        return None
    governing = policy.protection(root, environ)
    loaded = run.require_target().loaded
    if governing.config_path is not None and governing.config_path.resolve() == loaded.path.resolve():
        return None
    return governing


class _Registry:
    """The databases this machine has seen configured as protected (identity -> environment name), in
    the user's own state folder, signed with the machine key. Under an agent it only grows; a person
    running faber-db outside an agent with the environment unprotected in the config removes it."""

    def __init__(self, identities: dict[str, str], tampered: bool) -> None:
        self.identities = identities
        self.tampered = tampered

    @staticmethod
    def path() -> Any:
        from faber_db.proof import approval_dir

        return approval_dir().parent / "protected-databases.json"

    @classmethod
    def load(cls) -> _Registry:
        import json

        try:
            data = json.loads(cls.path().read_text("utf-8"))
            identities = {str(k): str(v) for k, v in dict(data["identities"]).items()}
        except FileNotFoundError:
            return cls({}, False)
        except (OSError, ValueError, KeyError, TypeError):
            return cls({}, True)
        return cls(identities, not _hmac_ok(identities, str(data.get("mac", ""))))

    def record(self, protected: dict[str, str], *, unprotected: set[str], heal: bool) -> None:
        """Add `protected`, drop `unprotected`; a tampered record is rewritten only when `heal` (a
        person outside an agent), never under an agent, which keeps failing closed."""
        if self.tampered and not heal:
            return
        kept = {k: v for k, v in self.identities.items() if k not in unprotected and k not in protected}
        # newest last; a bounded record (an agent cannot grow the file without end)
        changed = dict(list({**kept, **protected}.items())[-_REGISTRY_LIMIT:])
        if changed == self.identities and not self.tampered:
            return
        from faber_db.files import write_json_atomic

        try:
            path = self.path()
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_json_atomic(path, {"identities": changed, "mac": _mac(changed)})
        except OSError:
            return  # an unwritable state folder costs this record, never the operation
        self.identities, self.tampered = changed, False


def _mac(identities: dict[str, str]) -> str:
    import hashlib
    import hmac
    import json

    from faber_db.proof import machine_key

    body = json.dumps(identities, sort_keys=True).encode("utf-8")
    return hmac.new(machine_key(), body, hashlib.sha256).hexdigest()


def _hmac_ok(identities: dict[str, str], mac: str) -> bool:
    import hmac

    return hmac.compare_digest(mac, _mac(identities))
