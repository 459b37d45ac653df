"""`migrate`: apply the pending migrations of one environment (the seed's migration-deployer).

Read: connect (the advisory lock first), the history table, the pre-deployment health check, an
earlier deploy's journal. Plan: the pending migrations' exact bytes, their risky statements with
live row counts, squawk's lock findings; the plan id binds all of it. Apply: the migration tool's
deploy. Verify: what the tool recorded as applied must be exactly the approved migrations with the
approved checksums (else the deploy is treated as failed and the backup restored: `PLAN_CHANGED`),
then the post-deployment health check and every local migration applied.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError
from faber_db.health import Check, check_history, connect_checked
from faber_db.output import progress
from faber_db.planning import MigrationState, compute_state
from faber_db.plans import Binding, Plan, row_bucket
from faber_db.results import ErrorInfo, Finding, Result
from faber_db.workflow import BackupRef, GuardedOperation, Request, Run, Step, run_guarded

if TYPE_CHECKING:
    from faber_db.config import DestructiveRule
    from faber_db.engines import Database
    from faber_db.runtime import Context, Target


@dataclass
class PlannedMigration:
    name: str
    checksum: str
    sql: str


@dataclass
class MigratePlan:
    """What `migrate` would apply (details.plan); `plan_id` is set by a dry run or an approval."""

    plan_id: str | None
    environment: str
    pending: list[PlannedMigration]
    findings: list[Finding]
    destructive: bool
    blocked: list[str]
    approval_level: str | None
    requires_backup: bool


# pydantic reads this on stdlib dataclasses: the JSON schema's field descriptions come from attribute
# docstrings (prisma_output's deprecation); a plain dict keeps pydantic unimported.
_DOCSTRINGS_DESCRIBE: dict[str, Any] = {"use_attribute_docstrings": True}


@dataclass
class MigrateDetails:
    __pydantic_config__ = _DOCSTRINGS_DESCRIBE
    mode: str = "deploy"
    dry_run: bool = False
    project: str = ""
    steps: list[Step] = field(default_factory=list)
    plan: MigratePlan | None = None
    applied: list[str] = field(default_factory=list)
    backup: BackupRef | None = None
    restored: bool = False
    restore_verified: bool = False
    failed_migration: str | None = None
    # migrations that were applied before a later one failed (then restored away: see `restored`)
    ran_before_failure: list[str] = field(default_factory=list)
    client_generated: bool | None = None
    health: list[Check] = field(default_factory=list)
    # protected environments: the live schema against a replay of its applied history (None: not checked)
    drift: list[dict[str, Any]] | None = None
    # the migration tool (display name) and the tail of its output when the deploy failed
    tool: str | None = None
    tool_output: str | None = None
    prisma_output: str | None = None
    """Deprecated alias of tool_output (same content), kept for one release; read tool_output."""
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
    allow_drift: bool = False
    timeout: float | None = None


DRIFT_FLAG = "--allow-drift"


def migrate(ctx: Context, options: MigrateOptions) -> Result:
    return run_guarded(ctx, MigrateOperation(options), Request(
        environment=options.environment, dry_run=options.dry_run, approve=options.approve,
        allow_destructive=options.allow_destructive, skip_backup=options.skip_backup,
        force_backup=options.force_backup, flags=frozenset({DRIFT_FLAG} if options.allow_drift else ())))


class MigrateOperation(GuardedOperation):
    name = "migrate"
    plan_step = "check_pending_migrations"

    def __init__(self, options: MigrateOptions) -> None:
        self.options = options
        self.details = MigrateDetails(dry_run=options.dry_run)
        self.state: MigrationState | None = None

    # --- read ----------------------------------------------------------------------------------

    def validate(self, run: Run) -> None:
        options = self.options
        if options.skip_backup and options.force_backup:
            raise FaberError("INVALID_ARGUMENT", "--skip-backup and --backup contradict each other",
                             "Pass one of them (or neither: the environment's backup policy decides).")
        if options.timeout is not None and options.timeout <= 0:
            raise FaberError("INVALID_ARGUMENT", "--timeout must be a positive number of seconds",
                             "e.g. --timeout 300, or leave it out for the migration tool's own limit.")

    def read(self, run: Run) -> None:
        target = run.require_target()
        target.handler.check_datasource()  # the tool could not be pointed at this environment: stop first
        self.details.project = str(run.root)
        self.details.tool = target.handler.display_name
        with run.steps.run("migration_mode") as step:
            step.message = target.handler.deploy_description
        with run.steps.run("pre_deployment_health_check") as step:
            # a dry run never creates a database (a SQLite file); an apply may, as the migration tool would
            check, db = connect_checked(target, create=not run.request.dry_run)
            self.details.health.append(check)
            if db is None:
                raise FaberError("DATABASE_UNREACHABLE", check.message,
                                 "Check that the database is running and the URL is right; nothing was changed.")
            run.attach_session(db)
            state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
            self.state = state
            run.applied_before = list(state.applied)
            self._interrupted_deploy(run, state)
            history = check_history(state)
            self.details.health.append(history)
            configured_off = not (target.env.health_checks and target.loaded.config.safety.health_check_before_deploy)
            if self.options.skip_health_check or configured_off:
                why = "--skip-health-check" if self.options.skip_health_check else "turned off in the config"
                step.status, step.message = "skipped", f"{why} ({history.message})"
                run.warnings.append(f"The pre-deployment health check was skipped ({why}).")
            elif history.status == "fail":
                raise self._history_error(target, state, history)
            else:
                step.message = f"{check.message}; {history.message}"
                if history.status == "warn":
                    run.warnings.append(history.message)

    def _history_error(self, target: Target, state: MigrationState, history: Check) -> FaberError:
        if state.failed:
            return FaberError(
                "FAILED_MIGRATION_PRESENT", history.message + "; nothing was changed",
                f"Restore the backup taken before it (`faber-db backups {target.name}`, then `faber-db restore "
                f"{target.name} --from <id>`), or fix the database by hand and mark the migration rolled back.",
                details={"failed": state.failed})
        return FaberError(
            "MODIFIED_MIGRATION", history.message + "; nothing was changed",
            "An applied migration must stay as it was applied: restore its migration.sql from version control "
            "(`git checkout -- <path>`) and put the new change into a new migration.",
            details={"modified": state.modified})

    def _interrupted_deploy(self, run: Run, state: MigrationState) -> None:
        """A journal left behind means an earlier apply was killed (we hold the lock now, so it is
        dead). Consistent leftovers (whole migrations applied, none failed) are fine; a failed row is not."""
        journal = run.journal
        if journal is None:
            return
        run.warnings.append(f"An earlier {journal.get('operation', 'deploy')} (plan {journal.get('plan_id')}, started "
                            f"{journal.get('started_at')}) was interrupted; the database was checked before going on.")
        if not state.failed:
            return
        backup_id = journal.get("backup_id")
        target = run.require_target()
        hint = (f"Restore the backup taken before it: `faber-db restore {target.name} --from {backup_id}`, then "
                "deploy again." if backup_id else
                f"No backup was taken before it: undo by hand what {', '.join(state.failed)} changed (`faber-db "
                f"status {target.name}` lists it), then deploy again.")
        raise FaberError(
            "INTERRUPTED_DEPLOY",
            f"A deploy of plan {journal.get('plan_id')} started {journal.get('started_at')} was interrupted and left "
            f"a failed migration ({', '.join(state.failed)}); nothing was changed now",
            hint, details={"journal": journal, "failed": state.failed})

    # --- plan ------------------------------------------------------------------------------------

    def plan(self, run: Run) -> Plan:
        from faber_db.engines import database_identity
        from faber_db.safety import analyze_migrations, count_rows, evaluate, is_destructive, lock_findings

        target, state, db = run.require_target(), self.state, run.session
        assert state is not None and db is not None
        provider = target.provider
        pending = [_planned(m.name, m.up_bytes(run.root)) for m in state.pending]
        applied = set(state.applied)
        # the applied history tells the analysis what the tables look like now (old types, columns)
        history = [(m.name, m.up_text()) for m in state.local if m.name in applied]
        findings: list[Finding] = analyze_migrations([(m.name, m.sql) for m in pending], provider, history=history)
        findings += lock_findings([(m.name, m.sql) for m in pending], provider)
        if findings:
            count_rows(findings, db)
        rules = target.loaded.config.safety.destructive
        decision = evaluate(findings, rules)
        blocked = [f"{f.migration}:{f.line} {f.kind}" for f in decision.blocked]
        self.details.plan = MigratePlan(
            plan_id=None, environment=target.name, pending=pending, findings=findings,
            destructive=bool(decision.needs_approval or decision.blocked), blocked=blocked,
            approval_level=decision.approval_level if decision.needs_approval else None,
            requires_backup=decision.requires_backup)
        risky = [f for f in findings if is_destructive(f)]
        names = [m.name for m in pending]
        drift, required = self._drift(run, db, state) if names and run.protected else ("not checked", {})
        binding = Binding(
            operation=self.name, environment=target.name,
            database=database_identity(provider, target.url, target.handler.schema_dir),
            safety=safety_binding(target),
            inputs={"migrations": [[m.name, m.checksum] for m in pending],
                    "destructive": [[f.migration, f.line, f.kind, f.table,
                                     row_bucket(f.rows, _threshold(rules, f.kind))] for f in risky],
                    "blocked": blocked, "drift": drift})
        summary = [f"apply {name}" for name in names] + [f"drift: {d}" for d in required.values()] + [
            f"{f.kind} on {f.table or '?'} ({f.migration}:{f.line})"
            + (f": {f.rows} rows" if f.rows is not None else "") for f in risky]
        return Plan(binding=binding, title=f"Migrate {target.name}: {len(names)} pending migration(s)", summary=summary,
                    has_changes=bool(names), destructive=self.details.plan.destructive, blocked=blocked,
                    requires_backup=decision.requires_backup, required_flags=required)

    def _drift(self, run: Run, db: Database, state: MigrationState) -> tuple[Any, dict[str, str]]:
        """A protected plan checks the live schema against a replay of its applied history first: a
        deploy onto a database someone changed by hand needs that named (`--allow-drift`)."""
        from faber_db import drift

        with run.steps.run("drift_check") as step:
            try:
                differences = drift.detect(run.require_target(), db, state.applied)
            except FaberError as exc:
                step.status, step.message = "warning", f"could not run: {exc.message}"
                run.warnings.append(f"The drift check could not run ({exc.message}); the plan is made without it.")
                return f"unchecked: {exc.code}", {}
            self.details.drift = drift.as_dicts(differences)
            if not differences:
                step.message = "the schema matches a replay of the applied migrations"
                return [], {}
            described = [d.describe() for d in differences]
            step.status, step.message = "warning", "; ".join(described[:5])
            shown = "; ".join(described[:3]) + (f" (+{len(described) - 3} more)" if len(described) > 3 else "")
            return described, {DRIFT_FLAG: f"the database differs from its applied migrations: {shown}"}

    # --- apply and verify ------------------------------------------------------------------------

    def apply(self, run: Run) -> None:
        from faber_db.engines import engine

        target, plan = run.require_target(), self.details.plan
        assert plan is not None
        self.details.backup = run.backup_ref
        handler = target.handler
        names = [m.name for m in plan.pending]

        def on_line(line: str) -> None:
            name = handler.applying_migration(line)
            if name:
                progress(f"applying {name}")

        database = engine(target.provider)
        # not where a poll's read would fail the tool's write (SQLite's file lock) instead of waiting
        watcher = contextlib.nullcontext() if database.reads_disturb_writers else _ProgressWatcher(target, names)
        with run.steps.run("deploy_migrations") as step, watcher:
            started = time.monotonic()
            try:
                outcome = handler.deploy(database_url=target.url, timeout=self.options.timeout, on_line=on_line)
            except BaseException:  # Ctrl-C or SIGTERM: the tool was stopped; its server sessions go too
                if database.sessions_outlive_clients:
                    _end_orphaned_sessions(target, time.monotonic() - started, run.warnings)
                raise
            if outcome.timed_out and database.sessions_outlive_clients:
                _end_orphaned_sessions(target, time.monotonic() - started, run.warnings)
            if outcome.ok:
                step.message = f"{handler.display_name} applied the {len(names)} pending migration(s)"
                return
            error = outcome.error or FaberError("MIGRATION_FAILED", f"{handler.name} deploy failed",
                                                "Read tool_output for the database's error.")
            after = _read_state(target)
            details = self.details
            details.applied = [name for name in names if name in after.applied]
            details.failed_migration = outcome.failed_migration or next(
                (name for name in names if name in after.failed), None)
            details.tool_output = details.prisma_output = outcome.output
            details.error_details = {"code": error.code, "message": error.message,
                                     "database_error": error.details.get("database_error")}
            failed = details.failed_migration or "a migration"
            raise FaberError("MIGRATION_FAILED", f"{failed} failed on {target.name}: {error.message}",
                             f"Read tool_output for the database's error; fix the SQL of {failed}, then dry-run "
                             "again.", details={"tool_output": details.tool_output})

    def verify(self, run: Run) -> None:
        target, plan = run.require_target(), self.details.plan
        assert plan is not None
        with run.steps.run("post_deployment_health_check") as step:
            check, db = connect_checked(target)
            self.details.health.append(check)
            if db is None:
                raise FaberError("DATABASE_UNREACHABLE", f"After the deploy: {check.message}",
                                 f"Once the database is back, `faber-db status {target.name}` shows what was applied.")
            step.message = check.message
        with run.steps.run("verify_all_applied") as step, db:
            history = target.handler.applied_migrations(db)
            state = compute_state(target.handler.local_migrations(), history)
            self.details.applied = [m.name for m in plan.pending if m.name in state.applied]
            _check_applied_bytes(plan, history, run.applied_before)
            missing = [m.name for m in plan.pending if m.name not in state.applied]
            problems = [f"{label}: {', '.join(names)}" for label, names in (
                ("not applied", missing), ("failed", state.failed)) if names]
            if problems:
                raise FaberError("VERIFY_FAILED", f"After the deploy of {target.name}: {'; '.join(problems)}",
                                 f"The backup taken before the deploy is restored when there is one; compare "
                                 f"`faber-db status {target.name}` with the migrations folder before deploying again.")
            for label, names in (("edited after being applied", state.modified),
                                 ("applied but not in the folder", state.missing_locally)):
                if names:
                    run.warnings.append(f"After the deploy, {label}: {', '.join(names)}")
            step.message = (f"the {len(plan.pending)} approved migration(s) applied with the approved checksums; "
                            f"{len(state.applied)} applied in all")
        self._generate_client(run)

    def _generate_client(self, run: Run) -> None:
        target = run.require_target()
        generate = target.env.generate_client
        if generate is None:
            generate = target.name == "dev"
        if not generate:
            run.steps.skip("generate_client", f"not enabled for {target.name}")
            return
        possible, why = target.handler.client_generation()
        if not possible:
            run.steps.skip("generate_client", why)
            self.details.client_generated = False
            return
        with run.steps.run("generate_client") as step:
            progress(f"generating the {target.handler.display_name} client")
            outcome = target.handler.generate_client(database_url=target.url)
            self.details.client_generated = outcome.ok
            if not outcome.ok:
                what = outcome.error.message if outcome.error else "client generation failed"
                step.status, step.message = "warning", f"{what} (migrations are applied)"
                run.warnings.append(f"{what}: " + outcome.output.strip()[-300:])
            else:
                step.message = f"{target.handler.display_name} client regenerated"

    def backup_label(self, run: Run) -> str:
        plan_id = run.plan.plan_id if run.plan else None
        return f"before {plan_id}" if plan_id else "before migrate"

    def after_restore(self, run: Run) -> None:
        # what ran before the failure was restored away: nothing of the plan is applied now
        self.details.ran_before_failure, self.details.applied = self.details.applied, []

    # --- results ---------------------------------------------------------------------------------

    def _sync(self, run: Run) -> None:
        details = self.details
        if details.plan is not None and run.plan is not None:
            details.plan.plan_id = run.plan.plan_id
        details.backup = run.backup_ref
        details.restored, details.restore_verified = run.restored, run.restore_verified
        if run.restore_error is not None:
            details.error_details = {**(details.error_details or {}), "restore_error": run.restore_error}

    def preview_result(self, run: Run) -> Result:
        self._sync(run)
        target, plan = run.require_target(), self.details.plan
        assert plan is not None and plan.plan_id is not None
        risky = [f for f in plan.findings if f.severity in ("high", "critical")]
        for finding in risky:
            rows = f" ({finding.rows} rows)" if finding.rows is not None else ""
            run.warnings.append(f"{finding.migration}:{finding.line} {finding.kind} on {finding.table}{rows}")
        flags = " --allow-destructive" if plan.destructive and target.env.protected else ""
        fix = (f"faber-db migrate {target.name} --approve {plan.plan_id}{flags}" if target.env.protected
               else f"faber-db migrate {target.name}")
        return Result(status="warning" if risky or plan.blocked else "success", operation=self.name,
                      environment=target.name,
                      message=f"Dry run: {len(plan.pending)} pending migration(s) for {target.name}, "
                      f"plan {plan.plan_id}",
                      details=self.details, warnings=run.warnings, suggested_fixes=[fix])

    def nothing_to_do(self, run: Run) -> Result:
        self._sync(run)
        target = run.require_target()
        return Result(status="warning" if run.warnings else "success", operation=self.name, environment=target.name,
                      message=f"{target.name} is up to date; nothing to apply", details=self.details,
                      warnings=run.warnings)

    def success_result(self, run: Run) -> Result:
        self._sync(run)
        target = run.require_target()
        return Result(status="warning" if run.warnings else "success", operation=self.name, environment=target.name,
                      message=f"Applied {len(self.details.applied)} migration(s) to {target.name}",
                      details=self.details, warnings=run.warnings)

    def failure_result(self, run: Run, error: FaberError) -> Result:
        self._sync(run)
        details = self.details
        if error.details:
            details.error_details = {**(details.error_details or {}), **error.details}
        result = super().failure_result(run, error)
        result.details = details
        if not (run.applying and error.code == "MIGRATION_FAILED"):
            return result
        target = run.require_target()
        said = (details.error_details or {}).get("database_error")
        failed = details.failed_migration or "a migration"
        # the migration and the database's own error line lead the message: what a person fixes
        what = failed + (f" ({said})" if said else "")
        if run.restored:
            result.message = (f"{what} failed; {target.name} was restored from backup "
                              f"{run.backup.id if run.backup else ''} and matches its pre-deploy state")
            fixes = [f"Fix {failed}'s SQL (see tool_output), regenerate or edit it, then dry-run again."]
        elif run.backup is not None:
            result.message = (f"{what} failed on {target.name} and the automatic restore of backup "
                              f"{run.backup.id} failed")
            fixes = [f"Restore by hand: `faber-db restore {target.name} --from {run.backup.id}` (see warnings)",
                     f"then fix the SQL of {failed} and dry-run again"]
        else:
            result.message = f"{what} failed on {target.name}; no backup had been taken, so nothing was restored"
            fixes = [*target.handler.fixes_without_restore(failed, target.name),
                     "Next time keep a backup for this environment (backup = \"recommended\" or pass --backup)."]
        result.errors = [ErrorInfo(error.code, error.message, fixes[0])]
        result.suggested_fixes = fixes
        return result

    def audit_fields(self, run: Run) -> dict[str, Any]:
        plan = self.details.plan
        return {"pending": [m.name for m in plan.pending] if plan else [], "applied": self.details.applied}


def _planned(name: str, data: bytes) -> PlannedMigration:
    """The bytes read once: what the person sees and what the plan id binds are the same bytes."""
    import hashlib

    return PlannedMigration(name, hashlib.sha256(data).hexdigest(), data.decode("utf-8", errors="replace"))


def safety_binding(target: Target) -> dict[str, Any]:
    """The environment's safety-relevant config: weakening any of it after a dry run changes the plan."""
    import dataclasses

    config = target.loaded.config
    return {"protected": target.env.protected, "backup": target.env.backup, "health_checks": target.env.health_checks,
            "health_check_before_deploy": config.safety.health_check_before_deploy,
            "max_auto_rollback_attempts": config.safety.max_auto_rollback_attempts,
            "destructive": {kind: dataclasses.asdict(rule) for kind, rule in sorted(config.safety.destructive.items())}}


def _threshold(rules: dict[str, DestructiveRule], kind: str) -> int | None:
    rule = rules.get(kind)
    return rule.row_threshold if rule is not None else None


def _check_applied_bytes(plan: MigratePlan, history: list[Any], applied_before: list[str]) -> None:
    """What the tool recorded must be exactly the approved migrations with the approved bytes: a file
    edited, or a migration added, between the approval and the tool reading it is not approved."""
    approved = {m.name: m.checksum for m in plan.pending}
    before = set(applied_before)
    problems: list[str] = []
    for row in history:
        if row.name in before or row.rolled_back_at is not None:
            continue
        if row.name not in approved:
            problems.append(f"{row.name} was applied but is not in the approved plan")
        elif row.checksum != approved[row.name]:
            problems.append(f"{row.name} was applied with other bytes than the approved ones")
    if problems:
        raise FaberError("PLAN_CHANGED", f"The deploy did not run the approved plan: {'; '.join(problems)}",
                         "Nothing unapproved is kept: the backup taken before the deploy was restored. Find out what "
                         "changed the migrations folder during the deploy, then dry-run again.",
                         details={"problems": problems})


def _read_state(target: Target) -> MigrationState:
    with target.connect() as db:
        return compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))


class _ProgressWatcher:
    """Per-migration progress on stderr while the tool deploys, read from the history table (a tool
    may print the list only at the end). Best effort: a busy or unreachable database just means no
    progress line this time round; the last poll after the deploy reports the rest."""

    def __init__(self, target: Target, pending: list[str]) -> None:
        import threading

        self.target = target
        self.pending = pending
        self.started: set[str] = set()
        self.finished: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="faber-db-progress", daemon=True)

    def __enter__(self) -> _ProgressWatcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)

    def _watch(self) -> None:
        db: Database | None = None
        try:
            while True:
                stopping = self.stop.wait(0.5)
                try:
                    if db is None:
                        db = self.target.connect(timeout=0.5)
                    self._report(self.target.handler.applied_migrations(db))
                except (FaberError, OSError):
                    pass
                if stopping:
                    return
        finally:
            if db is not None:
                db.close()

    def _report(self, rows: list[Any]) -> None:
        for row in rows:
            if row.name not in self.pending or row.rolled_back_at is not None:
                continue
            if row.finished_at is not None and row.name not in self.finished:
                self.finished.add(row.name)
                progress(f"applied {row.name} ({len(self.finished)}/{len(self.pending)})")
            elif row.finished_at is None and row.name not in self.started:
                progress(f"applying {row.name}")
            self.started.add(row.name)


def _end_orphaned_sessions(target: Target, seconds: float, warnings: list[str]) -> None:
    """A killed tool leaves its server sessions running (PostgreSQL notices a dead client only when it
    next writes to it): one may still hold locks and later COMMIT half a migration, under or after the
    restore. End the sessions of this user on this database that began during the deploy (we hold the
    environment lock, so they are the tool's) and wait until they are gone."""
    since = seconds + 1.0
    pids: list[int] = []
    try:
        with target.connect() as db:
            pids = db.end_sessions_since(since)
    except FaberError as exc:
        warnings.append(f"Could not end the stopped tool's database sessions: {exc.message}")
        return
    if pids:
        progress(f"ended {len(pids)} database session(s) left by the stopped deploy")
