"""The migration-deployer workflow (the seed's 14 steps), as one function over the runtime layer.

Order matters for safety: the lock is taken before anything is read, the plan is computed under
the lock, nothing changes before approval, the backup is verified before the first SQL runs, and a
failure midway restores that backup and checks the data against the pre-deploy snapshot.
A journal file marks a deploy in flight, so a killed process is recognised by the next run.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError
from faber_db.health import Check, check_history, connect_checked
from faber_db.locking import LOCK_DIR, environment_lock, take_advisory_lock
from faber_db.output import progress
from faber_db.planning import MigrationState, Plan, compute_state, make_plan
from faber_db.results import ErrorInfo, Result
from faber_db.workflow import (
    BackupRef,
    Step,
    Steps,
    approval_source,
    prune,
    record_audit,
    take_backup,
)

if TYPE_CHECKING:
    from faber_db.backups import BackupManifest
    from faber_db.database import Database
    from faber_db.runtime import Context, Target

@dataclass
class MigrateDetails:
    mode: str = "deploy"
    dry_run: bool = False
    project: str = ""
    steps: list[Step] = field(default_factory=list)
    plan: Plan | None = None
    applied: list[str] = field(default_factory=list)
    backup: BackupRef | None = None
    restored: bool = False
    restore_verified: bool = False
    failed_migration: str | None = None
    # migrations that were applied before a later one failed (then restored away: see `restored`)
    ran_before_failure: list[str] = field(default_factory=list)
    client_generated: bool | None = None
    health: list[Check] = field(default_factory=list)
    prisma_output: str | None = None
    error_details: dict[str, Any] | None = None


@dataclass
class MigrateOptions:
    environment: str
    dry_run: bool = False
    approve: str | None = None
    skip_backup: bool = False
    force_backup: bool = False
    skip_health_check: bool = False
    allow_destructive: bool = False
    timeout: float | None = None


# --- the journal of a deploy in flight -------------------------------------------------------------


def journal_path(project_root: Path, environment: str) -> Path:
    return project_root / LOCK_DIR / f"{environment}.journal.json"


def read_journal(project_root: Path, environment: str) -> dict[str, Any] | None:
    try:
        data = json.loads(journal_path(project_root, environment).read_text("utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _write_journal(project_root: Path, environment: str, data: dict[str, Any]) -> None:
    path = journal_path(project_root, environment)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), "utf-8")
    os.replace(tmp, path)


def _clear_journal(project_root: Path, environment: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_path(project_root, environment).unlink()


# --- the workflow ---------------------------------------------------------------------------------


def migrate(ctx: Context, options: MigrateOptions) -> Result:
    details = MigrateDetails(dry_run=options.dry_run)
    steps = Steps(details.steps)
    warnings: list[str] = []
    environment: str | None = options.environment
    try:
        with steps.run("validate_parameters"):
            if options.skip_backup and options.force_backup:
                raise FaberError("INVALID_ARGUMENT", "--skip-backup and --backup contradict each other",
                                 "Pass one of them (or neither: the environment's backup policy decides).")
            if options.timeout is not None and options.timeout <= 0:
                raise FaberError("INVALID_ARGUMENT", "--timeout must be a positive number of seconds",
                                 "e.g. --timeout 300, or leave it out for prisma.timeout_seconds.")
        with steps.run("working_directory") as step:
            root = ctx.project_root()
            details.project = str(root)
            step.message = str(root)
        with steps.run("load_configuration") as step:
            target = ctx.target(options.environment)
            environment = target.name
            target.handler.check_datasource()  # before anything is read or backed up
            step.message = f"{target.name}: protected={target.env.protected}, backup={target.env.backup}"
        with steps.run("migration_mode") as step:
            step.message = "prisma migrate deploy (non-interactive; never migrate dev or reset)"
        if options.dry_run:
            return _preview(target, options, steps, details, warnings)
        with environment_lock(root, target.name, "migrate", wait_seconds=target.loaded.config.safety.lock_wait_seconds):
            return _apply(target, options, steps, details, warnings)
    except FaberError as error:
        return _failure(error, environment, details, warnings)


def _connect_and_read(target: Target, options: MigrateOptions, steps: Steps, details: MigrateDetails,
                      warnings: list[str]) -> tuple[Database, MigrationState]:
    with steps.run("pre_deployment_health_check") as step:
        # a dry run never creates a SQLite file; an apply does (as prisma migrate deploy would)
        check, db = connect_checked(target, create=target.provider == "sqlite" and not options.dry_run)
        details.health.append(check)
        if db is None:
            raise FaberError("DATABASE_UNREACHABLE", check.message,
                             "Check that the database is running and the URL is right; nothing was changed.")
        if not options.dry_run:
            try:
                take_advisory_lock(db, target.name)
            except FaberError:
                db.close()
                raise
        state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
        history = check_history(state)
        details.health.append(history)
        configured_off = not (target.env.health_checks and target.loaded.config.safety.health_check_before_deploy)
        if options.skip_health_check or configured_off:
            why = "--skip-health-check" if options.skip_health_check else "turned off in the config"
            step.status, step.message = "skipped", f"{why} ({history.message})"
            warnings.append(f"The pre-deployment health check was skipped ({why}).")
        elif history.status == "fail":
            db.close()
            code = "FAILED_MIGRATION_PRESENT" if state.failed else "MODIFIED_MIGRATION"
            raise FaberError(code, history.message + "; nothing was changed",
                             f"`faber-db status {target.name}` shows the details; see suggested_fixes.",
                             details={"failed": state.failed, "modified": state.modified})
        else:
            step.message = f"{check.message}; {history.message}"
            if history.status == "warn":
                warnings.append(history.message)
    return db, state


def _plan(target: Target, db: Database, state: MigrationState, steps: Steps, details: MigrateDetails) -> Plan:
    from faber_db.database import database_identity

    with steps.run("check_pending_migrations") as step:
        identity = database_identity(target.provider, target.url, target.handler.schema_dir)
        plan = make_plan(target.name, identity, state, target.provider,
                         target.loaded.config.safety.destructive, db)
        details.plan = plan
        step.message = f"{len(plan.pending)} pending" + (f": {', '.join(m.name for m in plan.pending)}"
                                                        if plan.pending else "")
    return plan


def _preview(target: Target, options: MigrateOptions, steps: Steps, details: MigrateDetails,
             warnings: list[str]) -> Result:
    db, state = _connect_and_read(target, options, steps, details, warnings)
    with db:
        plan = _plan(target, db, state, steps, details)
    with steps.run("preview") as step:
        step.message = f"plan {plan.plan_id}; nothing was changed"
    risky = [f for f in plan.findings if f.severity in ("high", "critical")]
    for finding in risky:
        rows = f" ({finding.rows} rows)" if finding.rows is not None else ""
        warnings.append(f"{finding.migration}:{finding.line} {finding.kind} on {finding.table}{rows}")
    fixes = []
    if plan.pending:
        flags = " --allow-destructive" if plan.destructive and target.env.protected else ""
        fixes.append(f"faber-db migrate {target.name} --approve {plan.plan_id}{flags}" if target.env.protected
                     else f"faber-db migrate {target.name}")
    message = (f"Dry run: {len(plan.pending)} pending migration(s) for {target.name}, plan {plan.plan_id}"
               if plan.pending else f"{target.name} is up to date; nothing to apply")
    return Result(status="warning" if risky or plan.blocked else "success", operation="migrate",
                  environment=target.name, message=message, details=details, warnings=warnings,
                  suggested_fixes=fixes)


def _apply(target: Target, options: MigrateOptions, steps: Steps, details: MigrateDetails,
           warnings: list[str]) -> Result:
    journal = read_journal(target.loaded.project_root, target.name)
    # (PostgreSQL: the session takes faber-db's advisory lock before reading anything, and keeps it,
    # so deploys from other machines are kept out until this one ends)
    db, state = _connect_and_read_after_interruption(target, options, steps, details, warnings, journal)
    try:
        return _apply_locked(target, options, steps, details, warnings, db, state)
    finally:
        db.close()


def _apply_locked(target: Target, options: MigrateOptions, steps: Steps, details: MigrateDetails,
                  warnings: list[str], db: Database, state: MigrationState) -> Result:
    root = target.loaded.project_root
    plan = _plan(target, db, state, steps, details)
    if not plan.pending:
        _clear_journal(root, target.name)
        return Result(status="warning" if warnings else "success", operation="migrate",
                      environment=target.name, message=f"{target.name} is up to date; nothing to apply",
                      details=details, warnings=warnings)
    try:
        _approve(target, options, plan, steps)
        backup = _backup(target, options, plan, state, steps, details, warnings,
                         connection=db if target.provider == "postgresql" else None)
    except FaberError as error:  # a refused (or failed) attempt to change the database is audited too
        _audit(target, options, plan, details, _failure(error, target.name, details, warnings))
        raise
    _write_journal(root, target.name, {"pid": os.getpid(), "plan_id": plan.plan_id,
                                       "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                       "applied_before": state.applied,
                                       "backup_id": backup.id if backup else None})
    if target.provider == "sqlite":
        db.close()  # no connection of ours stays on a file a restore may replace
    try:
        ok = _deploy(target, options, plan, backup, steps, details, warnings)
        if ok:
            _after_deploy(target, plan, steps, details, warnings)
    except FaberError as error:
        # The database went away (or did not verify) after Prisma ran: the journal stays so the next
        # run checks the database; the attempt is audited and the backup taken before it is named.
        if backup is not None:
            error.hint = (f"{error.hint} The deploy of plan {plan.plan_id} was interrupted: once the database "
                          f"is back, `faber-db status {target.name}` shows what was applied; the backup taken "
                          f"before it is {backup.id} (`faber-db restore {target.name} --from {backup.id}`).").strip()
        _audit(target, options, plan, details, _failure(error, target.name, details, warnings))
        raise
    _clear_journal(root, target.name)
    result = _outcome(target, plan, details, warnings, ok)
    _audit(target, options, plan, details, result)
    if ok and backup is not None:
        prune(target, warnings)
    return result


def _connect_and_read_after_interruption(target: Target, options: MigrateOptions, steps: Steps,
                                         details: MigrateDetails, warnings: list[str],
                                         journal: dict[str, Any] | None) -> tuple[Database, MigrationState]:
    """A journal left behind means a deploy was killed. We hold the lock now, so it is dead.
    Consistent leftovers (whole migrations applied, none failed) are fine; a failed row is not."""
    if journal is None:
        return _connect_and_read(target, options, steps, details, warnings)
    try:
        return _connect_and_read(target, options, steps, details, warnings)
    except FaberError as error:
        if error.code != "FAILED_MIGRATION_PRESENT":
            raise
        backup_id = journal.get("backup_id")
        fix = (f"faber-db restore {target.name} --from {backup_id}" if backup_id else
               f"faber-db status {target.name}, then fix and `prisma migrate resolve --rolled-back <name>`")
        raise FaberError(
            "INTERRUPTED_DEPLOY",
            f"A deploy of plan {journal.get('plan_id')} started {journal.get('started_at')} was interrupted and "
            f"left a failed migration ({_names(error.details.get('failed'))}); "
            "nothing was changed now",
            f"Restore the backup taken before it: `{fix}`",
            details={"journal": journal, **error.details},
        ) from None
    finally:
        warnings.append(f"An earlier deploy (plan {journal.get('plan_id')}) was interrupted; "
                        "the database was checked before continuing.")


def _names(value: object) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else ""


def _approve(target: Target, options: MigrateOptions, plan: Plan, steps: Steps) -> None:
    with steps.run("approval") as step:
        if plan.blocked:
            raise FaberError("OPERATION_BLOCKED",
                             f"The plan has statements never allowed through automation: {', '.join(plan.blocked)}",
                             "Run those statements by hand, with a DBA, outside faber-db.",
                             details={"plan": plan})
        if not target.env.protected:
            step.message = "not a protected environment"
            return
        approved_by = approval_source(
            target, options.approve, plan.plan_id, action=f"Applying {len(plan.pending)} migration(s)",
            command=f"faber-db migrate {target.name}", details={"plan": plan})
        if plan.destructive and not options.allow_destructive:
            raise FaberError(
                "DESTRUCTIVE_CHANGE",
                f"The plan for {target.name} has destructive statements; nothing was changed",
                f"Show the findings to the user; if they agree: faber-db migrate {target.name} --approve "
                f"{plan.plan_id} --allow-destructive",
                details={"plan": plan})
        step.message = f"plan {plan.plan_id} approved ({approved_by})"


def _backup(target: Target, options: MigrateOptions, plan: Plan, state: MigrationState, steps: Steps,
            details: MigrateDetails, warnings: list[str], connection: Database | None = None
            ) -> BackupManifest | None:
    policy = target.env.backup
    wanted = policy in ("required", "recommended") or options.force_backup or plan.requires_backup
    if options.skip_backup:
        if policy == "required":
            with steps.run("create_backup"):
                raise FaberError("BACKUP_REQUIRED", f"{target.name}'s policy requires a backup; --skip-backup refused",
                                 "Run without --skip-backup.")
        steps.skip("create_backup", "--skip-backup")
        warnings.append("No backup was taken (--skip-backup): a failure cannot be restored automatically.")
        return None
    if not wanted:
        steps.skip("create_backup", f"backup policy of {target.name} is {policy} (pass --backup to take one)")
        return None
    with steps.run("create_backup") as step:
        manifest, details.backup = take_backup(target, label=f"before {plan.plan_id}", migrations=state.applied,
                                               connection=connection)
        step.message = f"{manifest.id} ({manifest.size_bytes} bytes), verified: {manifest.verification}"
    return manifest


def _deploy(target: Target, options: MigrateOptions, plan: Plan, backup: BackupManifest | None, steps: Steps,
            details: MigrateDetails, warnings: list[str]) -> bool:
    handler = target.handler

    def on_line(line: str) -> None:
        name = handler.applying_migration(line)
        if name:
            progress(f"applying {name}")

    # PostgreSQL only: on SQLite every read takes a shared lock on the file, and Prisma's write meeting
    # it fails the migration with SQLITE_BUSY (seen as `SocketTimeout`) instead of waiting.
    watcher = (_ProgressWatcher(target, [m.name for m in plan.pending]) if target.provider == "postgresql"
               else contextlib.nullcontext())
    with steps.run("deploy_migrations") as step, watcher:
        started = time.monotonic()
        try:
            done = handler.deploy(database_url=target.url, timeout=options.timeout, on_line=on_line)
            error = None if done.returncode == 0 else handler.error_from(done, "prisma migrate deploy")
            output = done.stdout
        except FaberError as exc:
            if exc.code != "PRISMA_TIMEOUT":
                raise
            error, output = exc, str(exc.details.get("prisma_output", ""))
            if target.provider == "postgresql":
                _end_orphaned_sessions(target, time.monotonic() - started, warnings)
        if error is None:
            # what was applied is read once, by the verification that follows (same connection)
            step.message = f"prisma migrate deploy applied the {len(plan.pending)} pending migration(s)"
            return True
        after = _read_state(target)
        details.applied = [m.name for m in plan.pending if m.name in after.applied]
        details.failed_migration = next((m.name for m in plan.pending if m.name in after.failed), None)
        details.prisma_output = "\n".join(output.splitlines()[-25:])
        details.error_details = {"code": error.code, "message": error.message}
        step.status = "failed"
        step.message = f"failed at {details.failed_migration or 'an unknown migration'}: {error.message}"
    _recover(target, backup, steps, details, warnings)
    return False


class _ProgressWatcher:
    """Per-migration progress on stderr while Prisma deploys, read from the history table (Prisma
    itself prints the list only at the end). Best effort: a busy or unreachable database just means
    no progress line this time round."""

    def __init__(self, target: Target, pending: list[str]) -> None:
        import threading

        self.target = target
        self.pending = pending
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="faber-db-progress", daemon=True)

    def __enter__(self) -> _ProgressWatcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)

    def _watch(self) -> None:
        started: set[str] = set()
        finished: set[str] = set()
        db: Database | None = None
        try:
            while not self.stop.wait(0.5):
                try:
                    if db is None:
                        db = self.target.connect(timeout=0.2)
                    rows = self.target.handler.applied_migrations(db)
                except (FaberError, OSError):
                    continue
                for row in rows:
                    if row.name not in self.pending or row.rolled_back_at is not None:
                        continue
                    if row.finished_at is not None and row.name not in finished:
                        finished.add(row.name)
                        progress(f"applied {row.name} ({len(finished)}/{len(self.pending)})")
                    elif row.finished_at is None and row.name not in started:
                        progress(f"applying {row.name}")
                    started.add(row.name)
        finally:
            if db is not None:
                db.close()


def _end_orphaned_sessions(target: Target, seconds: float, warnings: list[str]) -> None:
    """A killed Prisma leaves its server sessions running (PostgreSQL notices a dead client only when
    it next writes to it): one may still hold locks and later COMMIT half a migration, under or after
    the restore. End the sessions of this user on this database that began during the deploy (we hold
    the environment lock, so they are Prisma's) and wait until they are gone."""
    since = seconds + 1.0
    try:
        with target.connect() as db:
            rows = db.query(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND usename = current_user AND pid <> pg_backend_pid() "
                "AND backend_start >= now() - make_interval(secs => ?)", (since,))
            pids = [int(r[0]) for r in rows]
            deadline = time.monotonic() + 15
            while pids and time.monotonic() < deadline:
                left = db.query("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(?)", (pids,))
                if not left[0][0]:
                    break
                time.sleep(0.1)
    except FaberError as exc:
        warnings.append(f"Could not end the stopped Prisma's database sessions: {exc.message}")
        return
    if pids:
        progress(f"ended {len(pids)} database session(s) left by the stopped prisma migrate deploy")


def _recover(target: Target, backup: BackupManifest | None, steps: Steps, details: MigrateDetails,
             warnings: list[str]) -> None:
    attempts = target.loaded.config.safety.max_auto_rollback_attempts
    if backup is None or attempts < 1:
        steps.skip("automatic_restore", "no backup was taken" if backup is None else "disabled in config")
        return
    from faber_db.backups import restore_backup

    config = target.loaded.config
    for attempt in range(1, attempts + 1):
        with steps.run("automatic_restore") as step:
            try:
                restore_backup(backup, url=target.url, schema_dir=target.handler.schema_dir,
                               backup_dir=target.loaded.resolve(config.backup.directory), progress=progress)
            except FaberError as exc:
                step.status, step.message = "failed", f"attempt {attempt}: {exc.message}"
                warnings.append(f"Automatic restore attempt {attempt} failed: {exc.message}")
                details.error_details = {**(details.error_details or {}),
                                         "restore_error": {"code": exc.code, "message": exc.message,
                                                           **{k: v for k, v in exc.details.items()
                                                              if isinstance(v, (str, int, float, bool))}}}
                continue
            details.restored = True
            # what ran before the failure was restored away: nothing of the plan is applied now
            details.ran_before_failure, details.applied = details.applied, []
            details.restore_verified = True
            step.message = (f"restored {backup.id}; row counts, content checksums and schema match the "
                            "pre-deploy snapshot")
            return


def _after_deploy(target: Target, plan: Plan, steps: Steps, details: MigrateDetails, warnings: list[str]) -> None:
    with steps.run("post_deployment_health_check") as step:
        check, db = connect_checked(target)
        details.health.append(check)
        if db is None:
            step.status, step.message = "failed", check.message
            warnings.append(f"Post-deployment health check failed: {check.message}")
        else:
            step.message = check.message
    with steps.run("verify_all_applied") as step:
        if db is None:
            state = _read_state(target)
        else:
            with db:  # the health check's connection: one connection for both
                state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
        details.applied = [m.name for m in plan.pending if m.name in state.applied]
        if not state.up_to_date:
            raise FaberError("VERIFY_FAILED",
                             f"After deploy: pending {state.pending_names}, failed {state.failed}, "
                             f"modified {state.modified}",
                             f"Run `faber-db status {target.name}` and investigate before deploying again.")
        step.message = f"all {len(state.applied)} local migrations applied with matching checksums"
    generate = target.env.generate_client
    if generate is None:
        generate = target.name == "dev"
    if not generate:
        steps.skip("generate_client", f"not enabled for {target.name}")
        return
    possible, why = target.handler.client_generation()
    if not possible:
        steps.skip("generate_client", why)
        details.client_generated = False
        return
    with steps.run("generate_client") as step:
        done = target.handler.generate_client(database_url=target.url)
        details.client_generated = done.returncode == 0
        if done.returncode != 0:
            step.status, step.message = "warning", "prisma generate failed (migrations are applied)"
            warnings.append("prisma generate failed: " + (done.stderr or done.stdout).strip()[-300:])
        else:
            step.message = "Prisma Client regenerated"


def _read_state(target: Target) -> MigrationState:
    with target.connect() as db:
        return compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))


def _outcome(target: Target, plan: Plan, details: MigrateDetails, warnings: list[str], ok: bool) -> Result:
    if ok:
        return Result(status="warning" if warnings else "success", operation="migrate", environment=target.name,
                      message=f"Applied {len(details.applied)} migration(s) to {target.name}",
                      details=details, warnings=warnings)
    failed = details.failed_migration or "a migration"
    if details.restored:
        backup_id = details.backup.id if details.backup else ""
        message = (f"{failed} failed; {target.name} was restored from backup {backup_id} "
                   "and matches its pre-deploy state")
        fixes = [f"Fix {failed}'s SQL (see prisma_output), regenerate or edit it, then dry-run again."]
    elif details.backup is not None:
        backup_id = details.backup.id
        message = f"{failed} failed on {target.name} and the automatic restore of backup {backup_id} failed"
        fixes = [f"Restore by hand: `faber-db restore {target.name} --from {backup_id}` (see warnings)",
                 f"then fix the SQL of {failed} and dry-run again"]
    else:
        message = f"{failed} failed on {target.name}; no backup to restore"
        fixes = [f"Fix the SQL of {failed}, then `npx prisma migrate resolve --rolled-back {failed}` and "
                 f"`faber-db migrate {target.name}` again",
                 f"or, if the statements did run after all: `npx prisma migrate resolve --applied {failed}`"]
    error = details.error_details or {}
    return Result(status="failure", operation="migrate", environment=target.name, message=message,
                  details=details, warnings=warnings,
                  errors=[ErrorInfo("MIGRATION_FAILED", str(error.get("message", message)), fixes[0])],
                  suggested_fixes=fixes)


def _audit(target: Target, options: MigrateOptions, plan: Plan, details: MigrateDetails, result: Result) -> None:
    record_audit(target, Steps(details.steps), result, {
        "operation": "migrate", "plan_id": plan.plan_id, "pending": [m.name for m in plan.pending],
        "applied": details.applied, "backup_id": details.backup.id if details.backup else None,
        "restored": details.restored, "approved": bool(options.approve),
        "error": result.errors[0].code if result.errors else None})


def _failure(error: FaberError, environment: str | None, details: MigrateDetails, warnings: list[str]) -> Result:
    plan = error.details.get("plan")
    if isinstance(plan, Plan) and details.plan is None:
        details.plan = plan
    extra = {k: v for k, v in error.details.items() if k != "plan"}
    details.error_details = extra or None
    return Result(status="failure", operation="migrate", environment=environment, message=error.message,
                  details=details, warnings=warnings, errors=[ErrorInfo(error.code, error.message, error.hint)],
                  suggested_fixes=[error.hint] if error.hint else [])
