"""The one guarded sequence every operation that changes a database runs through.

    environment lock -> read state -> plan -> approval -> backup -> apply -> verify -> audit -> retention

`run_guarded(ctx, operation, request)` owns the order; an operation (migrate, rollback, restore,
db-create: `faber_db.operations`) supplies only its read, plan, apply and verify steps and its
result. Nothing changes before approval; a protected environment always gets a verified backup
before the first change; a failure (or Ctrl-C) after the first change restores that backup and
checks the data against it; every outcome that got as far as the environment (success, failure,
refusal, cancellation) is audited. A dry run stops after the plan and records it (`plans`).

The lock: a file lock per (project, environment) for every process on this machine and, on
PostgreSQL, faber-db's session advisory lock on the target database, taken by the first session
the operation opens before it reads anything and held until the end (other machines).
A journal file marks an apply in flight, so a killed process is recognised by the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faber_db import audit
from faber_db.errors import FaberError
from faber_db.files import write_json_atomic
from faber_db.locking import LOCK_DIR, environment_lock, take_advisory_lock
from faber_db.output import progress, progress_step
from faber_db.results import ErrorInfo, Result, Timer

if TYPE_CHECKING:
    from faber_db.backups import BackupManifest
    from faber_db.engines import Database
    from faber_db.plans import Plan
    from faber_db.runtime import Context, Target

StepStatus = Literal["ok", "warning", "failed", "skipped"]
BackupScope = Literal["policy", "always", "none"]


@dataclass
class Step:
    name: str
    status: StepStatus = "ok"
    duration_ms: int = 0
    message: str = ""


@dataclass
class BackupRef:
    id: str
    path: str
    verified: bool
    size_bytes: int = 0


class Steps:
    """Each step of an operation, timed, with what happened; a raised error marks it failed."""

    def __init__(self, records: list[Step] | None = None) -> None:
        self.records: list[Step] = records if records is not None else []

    @contextlib.contextmanager
    def run(self, name: str, message: str = "") -> Iterator[Step]:
        """Record the step; a person sees it on stderr with a live timer once it has run a second."""
        step = Step(name, message=message)
        self.records.append(step)
        timer = Timer()
        label, _, subject = name.partition(":")  # "deploy_migrations" -> "deploy migrations"
        try:
            with progress_step(label.replace("_", " ") + (f" {subject}" if subject else ""), after=1.0):
                yield step
        except BaseException as exc:
            step.status = "failed"
            if isinstance(exc, FaberError):
                step.message = exc.message
            elif isinstance(exc, KeyboardInterrupt):
                step.message = "cancelled"
            else:
                step.message = step.message or type(exc).__name__
            raise
        finally:
            step.duration_ms = timer.ms

    def skip(self, name: str, message: str) -> None:
        self.records.append(Step(name, "skipped", 0, message))


@dataclass
class Request:
    """What the person asked for, as far as the workflow is concerned."""

    environment: str
    dry_run: bool = False
    approve: str | None = None
    allow_destructive: bool = False
    skip_backup: bool = False
    force_backup: bool = False
    # further confirmations given on the command line (e.g. "--allow-drift"), matched against the plan's
    flags: frozenset[str] = frozenset()


@dataclass
class Run:
    """One guarded run's state, shared by the workflow and the operation."""

    ctx: Context
    request: Request
    steps: Steps
    warnings: list[str] = field(default_factory=list)
    target: Target | None = None
    protected: bool = False
    # the operation's first connection; on PostgreSQL it holds faber-db's advisory lock for the whole run
    session: Database | None = None
    session_holds_lock: bool = False
    plan: Plan | None = None
    # migrations applied before the change (recorded in the backup's manifest)
    applied_before: list[str] = field(default_factory=list)
    backup: BackupManifest | None = None
    backup_ref: BackupRef | None = None
    approved_by: str | None = None
    applying: bool = False
    # the failed change ran in one transaction that was rolled back: nothing to restore
    unchanged: bool = False
    restored: bool = False
    restore_verified: bool = False
    # a failed automatic restore: the error's code, message and the tools' redacted stderr
    restore_error: dict[str, Any] | None = None
    journal: dict[str, Any] | None = None

    @property
    def root(self) -> Path:
        assert self.target is not None
        return self.target.loaded.project_root

    def require_target(self) -> Target:
        assert self.target is not None, "the target is resolved before any operation step"
        return self.target

    def attach_session(self, db: Database) -> Database:
        """Adopt the operation's first connection (the workflow closes it). Outside a dry run it takes
        faber-db's advisory lock (PostgreSQL) before anything is read, and keeps it until the run ends;
        a connection that holds no lock (SQLite) is closed before anything changes."""
        self.session = db
        if not self.request.dry_run:
            self.session_holds_lock = take_advisory_lock(db, self.require_target().name)
        return db


class GuardedOperation:
    """What an operation supplies to `run_guarded`. Subclasses set `name` and `details` (a dataclass
    with a `steps: list[Step]` field) and implement the steps; the defaults are the common case."""

    name: str = ""
    plan_step = "plan"
    details: Any

    def command(self, run: Run) -> str:
        """The command a person runs again (for hints): `faber-db <op> <env> ...`."""
        return f"faber-db {self.name} {run.require_target().name}"

    def validate(self, run: Run) -> None:
        """Argument checks, before the config is read: bad usage changes nothing and takes no lock."""

    def read(self, run: Run) -> None:
        raise NotImplementedError

    def plan(self, run: Run) -> Plan:
        raise NotImplementedError

    def apply(self, run: Run) -> None:
        raise NotImplementedError

    def verify(self, run: Run) -> None:
        raise NotImplementedError

    def backup_scope(self, run: Run) -> BackupScope:
        """Whether the change needs a backup first: by the environment's policy (protected: always),
        always (a restore replaces everything), or never (there is nothing to back up)."""
        return "policy"

    def backup_label(self, run: Run) -> str:
        plan_id = run.plan.plan_id if run.plan else None
        return f"before {self.name} {plan_id}" if plan_id else f"before {self.name}"

    def after_restore(self, run: Run) -> None:
        """The backup taken before the change was restored after a failure: adjust the details."""

    def preview_result(self, run: Run) -> Result:
        raise NotImplementedError

    def nothing_to_do(self, run: Run) -> Result:
        raise NotImplementedError

    def success_result(self, run: Run) -> Result:
        raise NotImplementedError

    def failure_result(self, run: Run, error: FaberError) -> Result:
        """A refusal, or a failure before or after the change (`run.restored` says whether it was undone)."""
        fixes = [error.hint] if error.hint else []
        message = error.message
        if run.applying and not run.unchanged:
            message += _restore_note(run)
            if run.backup is not None and not run.restored:
                fixes.insert(0, f"Restore by hand: `faber-db restore {run.require_target().name} --from "
                                f"{run.backup.id}`")
        return Result(status="failure", operation=self.name, environment=run.target.name if run.target else None,
                      message=message, details=self.details, warnings=run.warnings,
                      errors=[ErrorInfo(error.code, error.message, error.hint)], suggested_fixes=fixes)

    def audit_fields(self, run: Run) -> dict[str, Any]:
        return {}


def _restore_note(run: Run) -> str:
    if run.restored:
        return f"; restored backup {run.backup.id if run.backup else ''}: the data matches the state before"
    if run.backup is not None:
        return f"; the automatic restore of backup {run.backup.id} did not succeed"
    return "; no backup had been taken, so nothing was restored"


class Cancelled(Exception):
    """SIGTERM during a guarded run, handled like Ctrl-C."""


def run_guarded(ctx: Context, operation: GuardedOperation, request: Request) -> Result:
    run = Run(ctx=ctx, request=request, steps=Steps(operation.details.steps))
    try:
        with _terminate_as_cancel():
            return _run(operation, run)
    except (KeyboardInterrupt, Cancelled):
        # before any change (or after the restore below): a clean, audited cancel
        error = FaberError("CANCELLED", "Cancelled by the person (Ctrl-C); nothing was changed",
                           "Run the command again when ready.")
        result = operation.failure_result(run, error)
        if run.target is not None and not request.dry_run:
            _audit(operation, run, result, outcome="cancelled")
        return result


def _run(operation: GuardedOperation, run: Run) -> Result:
    request = run.request
    try:
        with run.steps.run("validate_parameters"):
            operation.validate(run)
        with run.steps.run("working_directory") as step:
            step.message = str(run.ctx.project_root())
        with run.steps.run("load_configuration") as step:
            from faber_db.approval import effective_protection

            run.target = run.ctx.target(request.environment)
            run.protected, why = effective_protection(run)
            if why:
                run.warnings.append(f"{run.target.name} is treated as protected: {why}")
            step.message = (f"{run.target.name}: protected={run.protected}, backup={run.target.env.backup}")
    except FaberError as error:
        return operation.failure_result(run, error)
    if request.dry_run:
        return _preview(operation, run)
    target = run.target
    try:
        with contextlib.ExitStack() as held:
            with run.steps.run("environment_lock") as step:
                held.enter_context(environment_lock(
                    target.loaded.project_root, target.name, operation.name,
                    wait_seconds=target.loaded.config.safety.lock_wait_seconds))
                step.message = f"{target.name} locked for {operation.name}"
            held.callback(_close_session, run)
            run.journal = read_journal(run.root, target.name)
            return _locked(operation, run)
    except FaberError as error:
        result = operation.failure_result(run, error)
        _audit(operation, run, result, outcome="refused" if error.exit_code == 3 else "failed")
        return result


def _close_session(run: Run) -> None:
    if run.session is not None:
        run.session.close()
        run.session, run.session_holds_lock = None, False


def _preview(operation: GuardedOperation, run: Run) -> Result:
    from faber_db import plans

    try:
        operation.read(run)
        with run.steps.run(operation.plan_step) as step:
            run.plan = operation.plan(run)
            step.message = run.plan.title
        _close_session(run)
        if not run.plan.has_changes:
            return operation.nothing_to_do(run)
        with run.steps.run("preview") as step:
            entry = plans.record(run.root, run.plan, ttl_hours=run.require_target().loaded.config.safety.plan_ttl_hours,
                                 audit_head=audit.head(run.root))
            run.plan.plan_id = entry.plan_id
            step.message = f"plan {entry.plan_id} recorded; nothing was changed"
        return operation.preview_result(run)
    except FaberError as error:
        return operation.failure_result(run, error)
    finally:
        _close_session(run)


def _locked(operation: GuardedOperation, run: Run) -> Result:
    from faber_db.approval import approve

    target = run.require_target()
    operation.read(run)
    with run.steps.run(operation.plan_step) as step:
        run.plan = operation.plan(run)
        step.message = run.plan.title
    if not run.plan.has_changes:
        clear_journal(run.root, target.name)
        result = operation.nothing_to_do(run)
        return result
    skipped = _backup_decision(operation, run)
    approve(operation, run)
    _take_backup(operation, run, skipped)
    if not run.session_holds_lock:
        _close_session(run)  # no connection of ours stays on a file the change (or a restore) replaces
    write_journal(run.root, target.name, {
        "pid": os.getpid(), "operation": operation.name, "plan_id": run.plan.plan_id,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "applied_before": run.applied_before,
        "backup_id": run.backup.id if run.backup else None})
    run.applying = True
    try:
        operation.apply(run)
        operation.verify(run)
    except (FaberError, KeyboardInterrupt, Cancelled) as exc:
        error = exc if isinstance(exc, FaberError) else FaberError(
            "CANCELLED", f"Cancelled by the person while {operation.name} was changing {target.name}",
            "Check the result's restored flag; run the command again when ready.")
        if isinstance(exc, FaberError) and exc.details.get("unchanged"):
            # its one transaction was rolled back: a restore now would only rewrite the same data (and
            # refresh materialized views that were stale on purpose)
            run.unchanged = True
            run.steps.skip("automatic_restore", "not needed: the change ran in one transaction, rolled back")
        else:
            _recover(operation, run)
        if run.restored or error.code != "DATABASE_UNREACHABLE":
            clear_journal(run.root, target.name)  # what happened is known (and undone when restored)
        result = operation.failure_result(run, error)
        _audit(operation, run, result, outcome="cancelled" if error.code == "CANCELLED" else "failed")
        return result
    clear_journal(run.root, target.name)
    result = operation.success_result(run)
    _audit(operation, run, result, outcome="applied")
    if run.backup is not None:
        _retention(run, result)
    return result


# --- backup, restore, audit, retention --------------------------------------------------------------


def backup_dir(target: Target) -> Path:
    return target.loaded.resolve(target.loaded.config.backup.directory)


def take_backup(target: Target, *, label: str | None, migrations: list[str], connection: Database | None = None
                ) -> tuple[BackupManifest, BackupRef]:
    """A verified backup of the environment now (verified before this returns); `connection`: an open
    PostgreSQL session to reuse (it must not be inside a transaction)."""
    from faber_db.backups import create_backup

    config = target.loaded.config
    manifest = create_backup(
        provider=target.provider, url=target.url, schema_dir=target.handler.schema_dir,
        backup_dir=backup_dir(target), environment=target.name, migrations=migrations, label=label,
        provider_name=config.backup.provider, progress=progress, compression=config.backup.compression,
        connection=connection, schemas=target.handler.database_schemas(),
        audit_head=audit.head(target.loaded.project_root))
    path = backup_dir(target) / target.name / manifest.file
    try:
        shown = str(path.relative_to(target.loaded.project_root))
    except ValueError:
        shown = str(path)
    return manifest, BackupRef(manifest.id, shown, manifest.verified, manifest.size_bytes)


def _backup_decision(operation: GuardedOperation, run: Run) -> str | None:
    """Whether a backup is taken before the change: None for yes, else why not. A refused
    --skip-backup raises here, before the approval spends the plan."""
    target, request, plan = run.require_target(), run.request, run.plan
    assert plan is not None
    scope = operation.backup_scope(run)
    if scope == "none":
        return f"{operation.name} has nothing to back up"
    policy = target.env.backup
    must = run.protected or policy == "required" or scope == "always"
    if request.skip_backup:
        if must:
            why = ("it is protected" if run.protected else f"its backup policy is {policy}"
                   if policy == "required" else f"{operation.name} always backs up first")
            with run.steps.run("create_backup"):
                raise FaberError("BACKUP_REQUIRED", f"{target.name} needs a backup before {operation.name} ({why}); "
                                 "--skip-backup refused; nothing was changed",
                                 "Run the same command without --skip-backup: faber-db takes a verified backup "
                                 "first, then applies.")
        return "--skip-backup"
    if not (must or policy == "recommended" or request.force_backup or plan.requires_backup):
        return f"backup policy of {target.name} is {policy} (pass --backup to take one)"
    return None


def _take_backup(operation: GuardedOperation, run: Run, skipped: str | None) -> None:
    target = run.require_target()
    if skipped is not None:
        run.steps.skip("create_backup", skipped)
        if skipped == "--skip-backup":
            run.warnings.append("No backup was taken (--skip-backup): a failure cannot be restored automatically.")
        return
    with run.steps.run("create_backup") as step:
        run.backup, run.backup_ref = take_backup(
            target, label=operation.backup_label(run), migrations=run.applied_before,
            connection=run.session if run.session_holds_lock else None)
        step.message = f"{run.backup.id} ({run.backup.size_bytes} bytes), verified: {run.backup.verification}"


@contextlib.contextmanager
def _terminate_as_cancel() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, `kill`) is handled like Ctrl-C: restore, audit, a clean result."""
    def cancel(signum: int, frame: object) -> None:
        raise Cancelled()

    try:
        previous = signal.signal(signal.SIGTERM, cancel)
    except ValueError:  # not the main thread (a test calling in-process): no handler
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _uninterruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while a restore runs: stopping it halfway would be worse than either."""
    def defer(signum: int, frame: object) -> None:
        progress("a restore is running; it finishes first")

    try:
        previous = {sig: signal.signal(sig, defer) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _recover(operation: GuardedOperation, run: Run) -> None:
    """A failure after the first change: restore the backup taken before it (verified against it)."""
    from faber_db.backups import restore_backup

    target = run.require_target()
    attempts = target.loaded.config.safety.max_auto_rollback_attempts
    if run.backup is None:
        run.steps.skip("automatic_restore", "no backup was taken")
        return
    if attempts < 1:
        run.steps.skip("automatic_restore", "turned off (safety.max_auto_rollback_attempts = 0)")
        return
    _close_session(run)  # the lock's session must not hold anything the restore replaces or drops
    with _uninterruptible():
        for attempt in range(1, attempts + 1):
            with run.steps.run("automatic_restore") as step:
                try:
                    restore_backup(run.backup, url=target.url, schema_dir=target.handler.schema_dir,
                                   backup_dir=backup_dir(target), progress=progress)
                except FaberError as exc:
                    step.status, step.message = "failed", f"attempt {attempt}: {exc.message}"
                    run.warnings.append(f"Automatic restore attempt {attempt} failed: {exc.message}")
                    run.restore_error = {"code": exc.code, "message": exc.message, **exc.details}
                    continue
                run.restored = run.restore_verified = True
                step.message = (f"restored {run.backup.id}; row counts, content checksums and schema match the "
                                "state before")
                break
    if run.restored:
        operation.after_restore(run)


def _audit(operation: GuardedOperation, run: Run, result: Result, *, outcome: str) -> None:
    """Append the audit line; a failure to write it is a warning on the result, never silent."""
    target = run.target
    if target is None:
        return
    entry = {"operation": operation.name, "environment": target.name, "status": result.status,
             "outcome": outcome, "message": result.message,
             "plan_id": (run.plan.plan_id if run.plan else None) or run.request.approve,
             "approved_by": run.approved_by,
             "approved": run.approved_by is not None,
             "backup_id": run.backup.id if run.backup else None, "restored": run.restored,
             "error": result.errors[0].code if result.errors else None, **operation.audit_fields(run)}
    with run.steps.run("audit_log") as step:
        try:
            audit.append(target.loaded.project_root, entry)
            step.message = f"{outcome}; appended to {audit.AUDIT_FILE}"
        except OSError as exc:
            step.status, step.message = "warning", f"audit log not written: {exc.strerror}"
            result.warnings.append(step.message)


def record_audit(target: Target, steps: Steps, result: Result, entry: dict[str, Any]) -> None:
    """The audit line of an operation outside the guarded sequence (a backup)."""
    with steps.run("audit_log") as step:
        try:
            audit.append(target.loaded.project_root, {
                "environment": target.name, "status": result.status, "message": result.message, **entry})
            step.message = f"appended to {audit.AUDIT_FILE}"
        except OSError as exc:
            step.status, step.message = "warning", f"audit log not written: {exc.strerror}"
            result.warnings.append(step.message)


def _retention(run: Run, result: Result) -> None:
    with run.steps.run("retention") as step:
        pruned = prune(run.require_target(), result.warnings)
        step.message = f"pruned {len(pruned)} old backup(s)" if pruned else "nothing to prune"


def prune(target: Target, warnings: list[str]) -> list[str]:
    """Retention, and the leftovers of killed backups (the caller holds the environment's lock)."""
    from faber_db.backups import prune_backups, remove_leftovers

    config = target.loaded.config.backup
    try:
        remove_leftovers(backup_dir(target), target.name)
        return prune_backups(backup_dir(target), target.name, config.keep_count, config.keep_days)
    except (OSError, FaberError) as exc:
        warnings.append(f"Old backups were not pruned: {exc}")
        return []


# --- the journal of an apply in flight ---------------------------------------------------------------


def journal_path(project_root: Path, environment: str) -> Path:
    return project_root / LOCK_DIR / f"{environment}.journal.json"


def read_journal(project_root: Path, environment: str) -> dict[str, Any] | None:
    try:
        data = json.loads(journal_path(project_root, environment).read_text("utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def write_journal(project_root: Path, environment: str, data: dict[str, Any]) -> None:
    write_json_atomic(journal_path(project_root, environment), data)


def clear_journal(project_root: Path, environment: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_path(project_root, environment).unlink()
