#!/usr/bin/env python3
"""faber-db's PreToolUse approval gate for the Bash tool.

Claude Code runs this before every Bash command and passes the hook payload as JSON on stdin.
When the command would apply, restore, roll back or create a database in a PROTECTED environment
(and is not a dry run), the hook answers ``permissionDecision: "ask"`` so that Claude Code asks the
person, whatever the model decided. Everything else gets no output and exit 0 (the normal
permission flow continues).

Recognised invocations (directly, through python3, through ``bash -c``, or in a chain):
  skills/handler-db-prisma/scripts/apply_migration.py ENV ...
  skills/backup-manager/scripts/restore.py ENV ...      skills/backup-manager/scripts/rollback.py ENV ...
  skills/db-initializer/scripts/db_create.py ENV ...
  faber-db [--format F] [--project DIR] migrate|restore|rollback|db-create ENV ...   (also bin/faber-db,
  python3 -m faber_db)
Also asked: ``prisma migrate reset``, ``prisma db push --force-reset``, and ``prisma migrate deploy``
next to a protected connection-URL variable name (PROD_DATABASE_URL, ...).

Protected environments come from the project's ``.fractary/plugins/faber-db/config.toml`` (or the
original plugin's ``config.json``; ``FABER_DB_CONFIG`` overrides the path): ``environments.<name>
.protected`` plus that environment's ``aliases``. Without a config: production and prod.

It fails closed: when a command mentions a faber-db mutating operation but the target cannot be
told for sure (a quoting error, ``$VAR`` or command substitution, an environment the config does not
know, ``eval``/``source``, a ``cd`` to a directory it cannot resolve), it asks.

Standard library only (Python 3.10+); the command is tokenised with shlex and never evaluated.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

_toml: Any = None
for _name in ("tomllib", "tomli"):  # Python 3.11+, else tomli when present; else the config is unreadable
    try:
        _toml = importlib.import_module(_name)
        break
    except ModuleNotFoundError:
        continue

CONFIG_DIR = PurePosixPath(".fractary/plugins/faber-db")
DEFAULT_PROTECTED = frozenset({"production", "prod"})
DEFAULT_KNOWN = frozenset({"dev", "staging", "production", "prod"})
DEFAULT_PROTECTED_URL_VARS = frozenset({"PROD_DATABASE_URL", "PRODUCTION_DATABASE_URL"})

# script file name -> faber-db operation
SCRIPTS = {
    "apply_migration.py": "migrate",
    "restore.py": "restore",
    "rollback.py": "rollback",
    "db_create.py": "db-create",
}
# generic file names: only counted when the command is clearly about faber-db
GENERIC_SCRIPTS = frozenset({"restore.py", "rollback.py"})
SUBCOMMANDS = frozenset(SCRIPTS.values())
READ_ONLY_SUBCOMMANDS = frozenset({"init", "status", "generate-migration", "backup", "backups", "health-check"})
DESCRIBE = {
    "migrate": "applies the pending migrations (verified backup, prisma migrate deploy, verification)",
    "restore": "replaces the database with the contents of a backup",
    "rollback": "rolls back applied migrations (restores the pre-migration backup / runs down.sql)",
    "db-create": "creates the environment's database",
}
# options that take a value (so their value is not mistaken for the environment)
VALUE_OPTIONS = frozenset({
    "--approve", "--timeout", "--from", "--last", "--to", "--label", "--format", "--project", "--checks",
    "--name", "--env",
})
GLOBAL_VALUE_OPTIONS = frozenset({"--format", "--project"})
SEPARATORS = frozenset({";", "&&", "||", "|", "&", "|&", ";;", "(", ")", "\n"})
SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
WRAPPERS = frozenset({"env", "sudo", "nohup", "time", "nice", "exec", "command", "builtin", "stdbuf", "timeout"})
UNSAFE_PROGRAMS = frozenset({"eval", "source", "."})
PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
MENTION = re.compile(
    r"apply_migration\.py|db_create\.py|restore\.py|rollback\.py|faber[-_]db\b[^\n;&|]*"
    r"\b(migrate|restore|rollback|db-create)\b"
)
FABER_CONTEXT = re.compile(r"faber|backup-manager|CLAUDE_PLUGIN_ROOT")
PRISMA_RESET = re.compile(r"\bprisma\b[^\n;&|]*\bmigrate\s+reset\b")
PRISMA_FORCE_RESET = re.compile(r"\bprisma\b[^\n;&|]*\bdb\s+push\b[^\n;&|]*--force-reset\b")
PRISMA_DEPLOY = re.compile(r"\bprisma\b[^\n;&|]*\bmigrate\s+deploy\b")
PROD_URL_NAME = re.compile(r"\b[A-Z0-9_]*PROD[A-Z0-9_]*URL[A-Z0-9_]*\b")


class Unsure(Exception):
    """The command mentions a faber-db mutating operation but its target cannot be determined."""


@dataclass
class Policy:
    """Which environments are protected for one project directory."""

    protected: frozenset[str]
    known: frozenset[str]
    url_vars: frozenset[str]
    source: str
    error: str | None = None


@dataclass
class Invocation:
    operation: str
    args: list[str]
    assignments: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


# --- config -----------------------------------------------------------------------------------


def find_project_root(start: Path, env: dict[str, str]) -> Path:
    explicit = env.get("CLAUDE_DB_CWD")
    if explicit:
        return Path(explicit)
    candidates = [start, *start.parents]
    for directory in candidates:
        if (directory / CONFIG_DIR / "config.toml").is_file() or (directory / CONFIG_DIR / "config.json").is_file():
            return directory
    for directory in candidates:
        if (directory / ".git").exists():
            return directory
    return start


def load_policy(root: Path, env: dict[str, str]) -> Policy:
    override = env.get("FABER_DB_CONFIG")
    if override:
        path = Path(override)
        path = path if path.is_absolute() else root / path
    else:
        path = root / CONFIG_DIR / "config.toml"
        if not path.is_file() and (root / CONFIG_DIR / "config.json").is_file():
            path = root / CONFIG_DIR / "config.json"
    if not path.is_file():
        if override:
            return Policy(DEFAULT_PROTECTED, frozenset(), DEFAULT_PROTECTED_URL_VARS, str(path),
                          f"FABER_DB_CONFIG points at a missing file ({path})")
        return Policy(DEFAULT_PROTECTED, DEFAULT_KNOWN, DEFAULT_PROTECTED_URL_VARS, "defaults (no config)")
    try:
        raw = path.read_text("utf-8")
        if path.suffix == ".json":
            return _policy_from_json(json.loads(raw), str(path))
        if _toml is None:
            raise ValueError("no TOML parser (Python < 3.11 without tomli)")
        return _policy_from_toml(_toml.loads(raw), str(path))
    except Exception as exc:  # unreadable or malformed: everything is unsure
        return Policy(DEFAULT_PROTECTED, frozenset(), DEFAULT_PROTECTED_URL_VARS, str(path),
                      f"cannot read {path.name}: {type(exc).__name__}")


def _policy_from_toml(data: Any, source: str) -> Policy:
    environments = data.get("environments") if isinstance(data, dict) else None
    if not isinstance(environments, dict):
        raise ValueError("no [environments] table")
    protected: set[str] = set()
    known: set[str] = set()
    url_vars: set[str] = set(DEFAULT_PROTECTED_URL_VARS)
    for name, env in environments.items():
        if not isinstance(env, dict):
            raise ValueError(f"environments.{name} is not a table")
        aliases = env.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"environments.{name}.aliases is not a list of names")
        names = {name, *aliases}
        known |= names
        if env.get("protected") is True:
            protected |= names
            if isinstance(env.get("url_env"), str):
                url_vars.add(env["url_env"])
        elif env.get("protected", False) is not False:
            raise ValueError(f"environments.{name}.protected is not a boolean")
    return Policy(frozenset(protected), frozenset(known), frozenset(url_vars), source)


def _policy_from_json(data: Any, source: str) -> Policy:
    """The original plugin's config.json: environments.<name>.require_approval, safety.protected_environments."""
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict):
        raise ValueError("no environments object")
    safety: dict[str, Any] = data["safety"] if isinstance(data.get("safety"), dict) else {}
    listed = safety.get("protected_environments") or ["production"]
    protected: set[str] = set()
    url_vars: set[str] = set(DEFAULT_PROTECTED_URL_VARS)
    for name, env in data["environments"].items():
        env = env if isinstance(env, dict) else {}
        if env.get("require_approval") or name in listed:
            protected.add(name)
            if isinstance(env.get("connection_string_env"), str):
                url_vars.add(env["connection_string_env"])
    return Policy(frozenset(protected), frozenset(data["environments"]), frozenset(url_vars), source)


# --- parsing ----------------------------------------------------------------------------------


def tokenize(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    return list(lexer)


def segments(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for token in tokens:
        if token in SEPARATORS:
            out.append([])
        else:
            out[-1].append(token)
    return [s for s in out if s]


def _is_redirect(token: str) -> bool:
    return bool(token) and set(token) <= set("<>&") and any(c in token for c in "<>")


def strip_redirects(words: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if _is_redirect(word):
            if out and out[-1].isdigit():
                out.pop()  # the fd number in 2>&1
            skip = True  # the redirect target
            continue
        out.append(word)
    return out


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _program_index(words: list[str]) -> tuple[int, dict[str, str]]:
    """Index of the program word after VAR=value assignments and wrappers such as env/sudo/timeout N."""
    assignments: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word):
            key, _, value = word.partition("=")
            assignments[key] = value
            i += 1
        elif PurePosixPath(word).name in WRAPPERS:
            i += 1
            while i < len(words) and (words[i].startswith("-") or re.fullmatch(r"[\d.]+[smhd]?", words[i])):
                i += 1  # wrapper options and timeout's duration
        else:
            break
    return i, assignments


def _script_operation(word: str, command: str) -> str | None:
    name = PurePosixPath(word).name
    operation = SCRIPTS.get(name)
    if operation is None:
        return None
    if name in GENERIC_SCRIPTS and not FABER_CONTEXT.search(command):
        return None
    return operation


def _after_global_options(words: list[str], start: int) -> int:
    i = start
    while i < len(words) and words[i].startswith("-"):
        flag = words[i].split("=", 1)[0]
        i += 2 if flag in GLOBAL_VALUE_OPTIONS and "=" not in words[i] else 1
    return i


def find_invocations(command: str, cwd: Path | None, depth: int = 0) -> tuple[list[Invocation], list[str]]:
    """faber-db mutating invocations in a command, and reasons to be unsure (fail closed).

    cwd is the directory the command starts in (None: unknown); `cd` segments move it.
    """
    if depth > 3:
        raise Unsure("nested shells too deep to follow")
    try:
        tokens = tokenize(command)
    except ValueError as exc:
        raise Unsure(f"the command cannot be parsed ({exc})") from None
    invocations: list[Invocation] = []
    unsure: list[str] = []
    for words in segments(tokens):
        words = strip_redirects(words)
        start, assignments = _program_index(words)
        if start >= len(words):
            continue
        program = PurePosixPath(words[start]).name
        if program in ("cd", "pushd"):
            target = words[start + 1] if start + 1 < len(words) else "~"
            unresolvable = cwd is None or target == "-" or any(c in target for c in "$`~*?")
            cwd = None if unresolvable or cwd is None else cwd / target  # an absolute target replaces cwd
            continue
        if program in SHELLS:
            rest = words[start + 1:]
            if "-c" in rest and rest.index("-c") + 1 < len(rest):
                inner, inner_unsure = find_invocations(rest[rest.index("-c") + 1], cwd, depth + 1)
                for inv in inner:
                    inv.assignments = {**assignments, **inv.assignments}
                invocations += inner
                unsure += inner_unsure
                continue
        if program in UNSAFE_PROGRAMS or program == "xargs":
            if MENTION.search(" ".join(words)):
                unsure.append(f"`{program}` runs a faber-db command that cannot be inspected")
            continue
        invocation = _match_segment(words, start, command)
        if invocation is not None:
            invocation.assignments = assignments
            invocation.cwd = cwd
            invocations.append(invocation)
    return invocations, unsure


def _match_segment(words: list[str], start: int, command: str) -> Invocation | None:
    i = start
    program = PurePosixPath(words[i]).name
    if PYTHON.match(program):
        i += 1
        while i < len(words) and words[i].startswith("-") and words[i] != "-m":
            i += 1
        if i < len(words) and words[i] == "-m":
            module = words[i + 1] if i + 1 < len(words) else ""
            if module.split(".")[0] != "faber_db":
                return None
            return _subcommand(words, i + 2)
        if i >= len(words):
            return None
    operation = _script_operation(words[i], command)
    if operation is not None:
        return Invocation(operation, words[i + 1:])
    if PurePosixPath(words[i]).name == "faber-db":
        return _subcommand(words, i + 1)
    return None


def _subcommand(words: list[str], start: int) -> Invocation | None:
    i = _after_global_options(words, start)
    if i >= len(words):
        return None  # `faber-db --help` or `faber-db --version`
    sub = words[i]
    if sub in SUBCOMMANDS:
        return Invocation(sub, words[start:i] + words[i + 1:])
    if sub in READ_ONLY_SUBCOMMANDS:
        return None
    if "$" in sub or "`" in sub:
        raise Unsure(f"the faber-db subcommand {sub!r} is not a literal")
    return None


def parse_args(args: list[str]) -> tuple[str | None, dict[str, str | bool]]:
    """The first positional argument (the environment) and the options of an invocation."""
    environment: str | None = None
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            flag, eq, value = arg.partition("=")
            if eq:
                options[flag] = value
            elif flag in VALUE_OPTIONS and i + 1 < len(args):
                options[flag] = args[i + 1]
                i += 1
            else:
                options[flag] = True
        elif arg in ("-h",):
            options["--help"] = True
        elif environment is None:
            environment = arg
        i += 1
    return environment, options


# --- decision ---------------------------------------------------------------------------------


def decide(payload: dict[str, Any], environ: dict[str, str]) -> str | None:
    """The reason to ask the person, or None to let the normal permission flow continue."""
    if payload.get("tool_name") != "Bash":
        return None
    tool_input = payload.get("tool_input") or {}
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    if not isinstance(command, str) or not command.strip():
        return None
    base_cwd = Path(str(payload.get("cwd") or environ.get("CLAUDE_DB_CWD") or os.getcwd()))

    prisma_reason = _prisma_reason(command, base_cwd, environ)
    mentions = bool(MENTION.search(command))
    if not mentions:
        return prisma_reason

    if "$(" in command or "`" in command or "<(" in command:
        return _unsure("it uses command substitution, so its target cannot be read before it runs")
    try:
        invocations, unsure = find_invocations(command, base_cwd)
    except Unsure as exc:
        return _unsure(str(exc))

    reasons = [r for r in (_invocation_reason(inv, environ) for inv in invocations) if r]
    if reasons:
        return " | ".join(reasons)
    if unsure:
        return _unsure("; ".join(unsure))
    if not invocations:
        # mentioned, but not in a form this hook recognises (python -c, an alias, ...): ask when a
        # protected environment's name appears next to it; `cat apply_migration.py` stays quiet
        policy = load_policy(find_project_root(base_cwd, environ), environ)
        words = set(re.findall(r"[A-Za-z0-9_.-]+", command))
        hit = sorted(words & (policy.protected | DEFAULT_PROTECTED))
        if hit:
            return _unsure(f"it is not a form the hook can parse and it names {', '.join(hit)}")
    return prisma_reason


def _invocation_reason(inv: Invocation, environ: dict[str, str]) -> str | None:
    environment, options = parse_args(inv.args)
    if options.get("--help"):
        return None
    if options.get("--dry-run"):
        return None
    env = {**environ, **inv.assignments}
    if any("$" in v or "`" in v for v in inv.assignments.values()):
        return _unsure(f"`{inv.operation}` sets a variable from the shell that cannot be read beforehand")
    start = inv.cwd
    project = options.get("--project")
    if isinstance(project, str):
        if any(c in project for c in "$`~"):
            return _unsure(f"`{inv.operation}` uses --project {project}, which cannot be resolved beforehand")
        start = Path(project) if Path(project).is_absolute() or start is None else start / project
        if not start.is_absolute():
            start = None
    if start is None and not env.get("CLAUDE_DB_CWD"):
        return _unsure(f"`{inv.operation}` runs after a `cd` to a directory that cannot be resolved beforehand")
    policy = load_policy(find_project_root(start or Path("/"), env), env)
    plan = options.get("--approve")
    plan_text = f"plan {plan}" if isinstance(plan, str) else "no plan id given"
    if environment is None:
        return _unsure(f"`{inv.operation}` names no environment")
    if any(c in environment for c in "$`*?[]{}") or environment.startswith("-"):
        return _unsure(f"`{inv.operation}` targets {environment!r}, which is not a literal environment name")
    if policy.error:
        return _unsure(f"`{inv.operation} {environment}`: {policy.error}")
    if environment in policy.protected:
        extra = []
        if isinstance(options.get("--from"), str):
            extra.append(f"from backup {options['--from']}")
        for flag in ("--last", "--to"):
            if isinstance(options.get(flag), str):
                extra.append(f"{flag} {options[flag]}")
        for flag in ("--allow-destructive", "--skip-backup", "--skip-health-check"):
            if options.get(flag):
                extra.append(flag)
        detail = f" ({', '.join(extra)})" if extra else ""
        return (f"faber-db {inv.operation} on PROTECTED environment '{environment}', {plan_text}{detail}: "
                f"{DESCRIBE[inv.operation]}. Approve only if you reviewed this plan from the dry run "
                f"(config: {policy.source}).")
    if environment not in policy.known:
        return _unsure(f"`{inv.operation}` targets {environment!r}, an environment {policy.source} does not define")
    return None


def _prisma_reason(command: str, base_cwd: Path, environ: dict[str, str]) -> str | None:
    if PRISMA_RESET.search(command):
        return ("The command runs `prisma migrate reset`, which DROPS the database and re-applies every "
                "migration. faber-db never runs it; approve only if you asked for it.")
    if PRISMA_FORCE_RESET.search(command):
        return ("The command runs `prisma db push --force-reset`, which drops all data. Approve only if you "
                "asked for it.")
    if PRISMA_DEPLOY.search(command):
        try:
            policy = load_policy(find_project_root(base_cwd, environ), environ)
            url_vars = policy.url_vars
        except Exception:
            url_vars = DEFAULT_PROTECTED_URL_VARS
        named = sorted({m for m in PROD_URL_NAME.findall(command)} | {v for v in url_vars if v in command})
        if named:
            return (f"The command runs `prisma migrate deploy` with {', '.join(named)} (a protected database) "
                    "outside faber-db: no plan, no backup, no restore. Use /faber-db:migrate instead.")
    return None


def _unsure(why: str) -> str:
    return (f"faber-db approval gate: this command looks like a faber-db apply/restore/rollback/db-create, but "
            f"{why}. A protected environment may be affected, so you are asked.")


def main() -> int:
    raw = sys.stdin.read()
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("payload is not an object")
        reason = decide(payload, dict(os.environ))
    except Exception as exc:  # never crash the tool call; fail closed when faber-db is involved
        reason = _unsure(f"the hook could not read it ({type(exc).__name__})") if MENTION.search(raw) else None
    if reason:
        sys.stdout.write(json.dumps({"hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": "ask", "permissionDecisionReason": reason}}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
