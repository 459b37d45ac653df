"""`rollback`: undo the newest applied migrations.

Two strategies, chosen by the plan and kept by the apply (the preview's strategy is the strategy):
- `down`: every migration to undo has a down.sql. Each runs newest first through the migration
  tool from a private copy of the approved bytes, then its history row is removed; afterwards the
  schema must equal a replay of what remains.
- `restore`: some migration has no down.sql, and a verified backup taken before the oldest of them
  exists. The apply restores that backup. When that backup predates more migrations than asked, the
  plan says exactly which it undoes, and the apply needs `--restore-backup ID` naming it.
Either way the preview lists, per table, the live rows that would be lost.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError
from faber_db.output import progress
from faber_db.planning import MigrationState, compute_state
from faber_db.plans import Binding, Plan, row_bucket
from faber_db.results import Finding, Result
from faber_db.workflow import BackupRef, BackupScope, GuardedOperation, Request, Run, Step, backup_dir, run_guarded

if TYPE_CHECKING:
    from faber_db.backups import BackupManifest
    from faber_db.runtime import Context

RESTORE_FLAG = "--restore-backup"


@dataclass
class RollbackTarget:
    name: str
    has_down: bool
    down_sql: str | None
    data_loss: list[Finding] = field(default_factory=list)


@dataclass
class Alternative:
    backup_id: str
    created_at: str
    command: str
    # applied migrations the restore would undo (may be more than asked) and those it keeps
    undoes: list[str] = field(default_factory=list)
    keeps: list[str] = field(default_factory=list)


@dataclass
class TableLoss:
    """What a restore does to one table: its live rows are replaced by the backup's."""

    table: str
    live_rows: int
    backup_rows: int | None  # None: the table is not in the backup (it would be dropped)


@dataclass
class RollbackDetails:
    dry_run: bool
    plan_id: str | None = None
    targets: list[RollbackTarget] = field(default_factory=list)
    strategy: str | None = None
    alternative: Alternative | None = None
    # the migrations the chosen strategy undoes (for `restore`: all those newer than the backup)
    undoes: list[str] = field(default_factory=list)
    live_rows_lost: list[TableLoss] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    backup: BackupRef | None = None
    restored: bool = False
    steps: list[Step] = field(default_factory=list)


@dataclass
class RollbackOptions:
    environment: str
    last: int | None = None
    to: str | None = None
    dry_run: bool = False
    approve: str | None = None
    allow_destructive: bool = False
    restore_backup: str | None = None


def rollback(ctx: Context, options: RollbackOptions) -> Result:
    flags = frozenset({f"{RESTORE_FLAG}={options.restore_backup}"} if options.restore_backup else ())
    return run_guarded(ctx, RollbackOperation(options), Request(
        environment=options.environment, dry_run=options.dry_run, approve=options.approve,
        allow_destructive=options.allow_destructive, flags=flags))


def select(state: MigrationState, last: int | None, to: str | None) -> list[str]:
    """The applied migrations to undo, newest first."""
    applied = state.applied  # in the folder's (apply) order
    if to is not None:
        if to not in applied:
            raise FaberError("MIGRATION_NOT_FOUND", f"{to!r} is not an applied migration",
                             "Pick a name from `faber-db status <env>` (details.applied).")
        return list(reversed(applied[applied.index(to) + 1:]))
    count = 1 if last is None else last
    if count < 1:
        raise FaberError("INVALID_ARGUMENT", "--last must be at least 1", "e.g. --last 1 for the newest migration")
    if count > len(applied):
        raise FaberError("INVALID_ARGUMENT", f"--last {count}, but only {len(applied)} migration(s) are applied",
                         f"Use --last {max(len(applied), 1)} or fewer (see `faber-db status`).")
    return list(reversed(applied[-count:]))


class RollbackOperation(GuardedOperation):
    name = "rollback"
    plan_step = "read_state"

    def __init__(self, options: RollbackOptions) -> None:
        self.options = options
        self.details = RollbackDetails(dry_run=options.dry_run)
        self.state: MigrationState | None = None
        self.chosen: BackupManifest | None = None
        self.down_bytes: dict[str, bytes] = {}

    def backup_scope(self, run: Run) -> BackupScope:
        # restoring an older backup replaces everything: keep the state it replaces, always
        return "always" if self.details.strategy == "restore" else "policy"

    def command(self, run: Run) -> str:
        options = self.options
        which = f"--to {options.to}" if options.to else f"--last {len(self.details.targets) or options.last or 1}"
        return f"faber-db rollback {run.require_target().name} {which}"

    def read(self, run: Run) -> None:
        from faber_db.safety import analyze_sql, count_rows

        target = run.require_target()
        target.handler.check_datasource()  # down.sql runs through the tool: stop before anything is read
        db = run.attach_session(target.connect())
        local = {m.name: m for m in target.handler.local_migrations()}
        self.state = state = compute_state(list(local.values()), target.handler.applied_migrations(db))
        run.applied_before = list(state.applied)
        names = select(state, self.options.last, self.options.to)
        for name in names:
            migration = local[name]
            down = migration.down_bytes(run.root)
            text = down.decode("utf-8", errors="replace") if down is not None else None
            if down is not None:
                self.down_bytes[name] = down
            found = analyze_sql(text, target.provider, migration=name) if text else []
            loss = [f for f in found if f.severity in ("high", "critical")]
            if loss:
                count_rows(loss, db)
            self.details.targets.append(RollbackTarget(name, down is not None, text, loss))

    def plan(self, run: Run) -> Plan:
        from faber_db.backups import list_backups, schemas_of, take_snapshot

        target, state, details = run.require_target(), self.state, self.details
        assert state is not None and run.session is not None
        names = [t.name for t in details.targets]
        if not names:
            return Plan(binding=self._binding(run, {}), title="No applied migrations: nothing to roll back",
                        summary=[], has_changes=False)
        oldest = names[-1]
        keep = state.applied[:state.applied.index(oldest)]
        for manifest in list_backups(backup_dir(target), target.name):
            if manifest.verified and oldest not in manifest.migrations and set(manifest.migrations) <= set(keep):
                undoes = [m for m in reversed(state.applied) if m not in manifest.migrations]
                details.alternative = Alternative(manifest.id, manifest.created_at,
                                                  f"faber-db rollback {target.name} {RESTORE_FLAG} {manifest.id}",
                                                  undoes=undoes, keeps=list(manifest.migrations))
                self.chosen = manifest
                break
        required: dict[str, str] = {}
        if all(t.has_down for t in details.targets):
            details.strategy, details.undoes = "down", list(names)
        elif self.chosen is not None and details.alternative is not None:
            details.strategy, details.undoes = "restore", list(details.alternative.undoes)
            live = take_snapshot(run.session, schemas_of(self.chosen))
            details.live_rows_lost = [
                TableLoss(table, rows, self.chosen.snapshot.tables.get(table))
                for table, rows in sorted(live.data_tables.items()) if rows]
            extra = [m for m in details.undoes if m not in names]
            if extra:
                required[f"{RESTORE_FLAG}={self.chosen.id}"] = (
                    f"restoring backup {self.chosen.id} undoes {len(details.undoes)} migrations, not {len(names)}: "
                    f"also {', '.join(extra)}")
        else:
            missing = [t.name for t in details.targets if not t.has_down]
            raise FaberError("NO_DOWN_MIGRATION",
                             f"No down.sql for {', '.join(missing)}, and no verified backup of {target.name} was taken "
                             "before it; nothing was changed",
                             "Write a down.sql for it by hand, or restore from a backup of your own.",
                             details={"targets": names})
        loss_findings = [f for t in details.targets for f in t.data_loss] if details.strategy == "down" else []
        rows = ({f"{f.migration}:{f.line}:{f.kind}:{f.table}": row_bucket(f.rows) for f in loss_findings}
                if details.strategy == "down" else {x.table: row_bucket(x.live_rows) for x in details.live_rows_lost})
        inputs = {"strategy": details.strategy, "undoes": details.undoes, "rows": rows,
                  "down": [[name, hashlib.sha256(self.down_bytes[name]).hexdigest()] for name in names
                           if details.strategy == "down"],
                  "backup": [self.chosen.id, self.chosen.sha256] if details.strategy == "restore" and self.chosen
                  else None}
        summary = [f"undo {name}" for name in details.undoes]
        if details.strategy == "restore" and self.chosen is not None:
            summary.insert(0, f"by restoring backup {self.chosen.id} ({self.chosen.created_at})")
            summary += [f"{x.table}: the restore removes the {x.live_rows} live rows"
                        + (f" (the backup has {x.backup_rows})" if x.backup_rows is not None else
                           " (the table is not in the backup)") for x in details.live_rows_lost]
        summary += [f"{f.migration}: down.sql {f.message}" + (f" ({f.rows} rows)" if f.rows is not None else "")
                    for f in loss_findings]
        return Plan(binding=self._binding(run, inputs), summary=summary, required_flags=required,
                    title=f"Roll back {len(details.undoes)} migration(s) on {target.name} by "
                    f"{'their down.sql' if details.strategy == 'down' else 'restoring a backup'}",
                    destructive=bool(loss_findings), requires_backup=bool(loss_findings))

    def _binding(self, run: Run, inputs: dict[str, Any]) -> Binding:
        from faber_db.engines import database_identity
        from faber_db.operations.migrate import safety_binding

        target = run.require_target()
        return Binding(operation=self.name, environment=target.name,
                       database=database_identity(target.provider, target.url, target.handler.schema_dir),
                       safety=safety_binding(target), inputs=inputs)

    def apply(self, run: Run) -> None:
        from faber_db.backups import restore_backup

        target, details = run.require_target(), self.details
        details.backup = run.backup_ref
        if details.strategy == "restore":
            assert self.chosen is not None
            with run.steps.run("restore_backup") as step:
                restore_backup(self.chosen, url=target.url, schema_dir=target.handler.schema_dir,
                               backup_dir=backup_dir(target), progress=progress)
                details.rolled_back = list(details.undoes)
                step.message = f"restored {self.chosen.id}; rows and schema match its manifest"
            return
        with tempfile.TemporaryDirectory(prefix="faber-db-down-") as private:
            for item in details.targets:
                with run.steps.run(f"down:{item.name}") as step:
                    # the approved bytes, from a copy no one else writes to (not the file, which may change)
                    script = Path(private) / f"{item.name}.down.sql"
                    script.write_bytes(self.down_bytes[item.name])
                    progress(f"rolling back {item.name}")
                    outcome = target.handler.execute_script(script, database_url=target.url,
                                                            what=f"down.sql of {item.name}")
                    if not outcome.ok:
                        raise outcome.error or FaberError("MIGRATION_FAILED", f"down.sql of {item.name} failed",
                                                          "Check the down script against the database.")
                    with target.connect() as db:
                        target.handler.forget_migrations(db, [item.name])
                    details.rolled_back.append(item.name)
                    step.message = "down.sql applied; history row removed"

    def verify(self, run: Run) -> None:
        """The rolled-back migrations are pending again, and the schema equals a replay of what remains."""
        from faber_db import drift

        target, details = run.require_target(), self.details
        with run.steps.run("verify") as step, target.connect() as db:
            after = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
            still = [name for name in details.undoes if name in after.applied]
            differences = drift.detect(target, db, after.applied)
            if still or differences:
                problems = ([f"still recorded as applied: {', '.join(still)}"] if still else []) + \
                    [d.describe() for d in differences[:10]]
                raise FaberError("VERIFY_FAILED", "The rollback did not return the schema to its earlier state: "
                                 + "; ".join(problems),
                                 "Check the down.sql scripts; the backup taken before the rollback is restored when "
                                 "there is one.", details={"drift": drift.as_dicts(differences)})
            step.message = (f"{len(details.undoes)} migration(s) pending again; schema equals a replay of the "
                            f"{len(after.applied)} remaining migration(s)")

    def backup_label(self, run: Run) -> str:
        return f"before rollback {run.plan.plan_id}" if run.plan and run.plan.plan_id else "before rollback"

    def after_restore(self, run: Run) -> None:
        self.details.rolled_back = []

    def _sync(self, run: Run) -> None:
        self.details.plan_id = run.plan.plan_id if run.plan else None
        self.details.backup = run.backup_ref
        self.details.restored = run.restored

    def preview_result(self, run: Run) -> Result:
        self._sync(run)
        target, details, plan = run.require_target(), self.details, run.plan
        assert plan is not None
        warnings = run.warnings + [f"{t.name}: down.sql {f.message}"
                                   + (f" ({f.rows} rows)" if f.rows is not None else "")
                                   for t in details.targets for f in t.data_loss]
        for flag, why in plan.required_flags.items():
            warnings.append(f"Needs {flag.replace('=', ' ')} to apply: {why}")
        extra = " ".join(flag.replace("=", " ") for flag in plan.required_flags)
        approve = f" --approve {details.plan_id}" if target.env.protected else ""
        fixes = [f"{self.command(run)}{approve}{' --allow-destructive' if plan.destructive else ''}"
                 + (f" {extra}" if extra else "")]
        return Result(status="warning" if warnings else "success", operation=self.name, environment=target.name,
                      details=details, warnings=warnings, suggested_fixes=fixes,
                      message=f"Dry run: {plan.title[0].lower()}{plan.title[1:]}; plan {details.plan_id}")

    def nothing_to_do(self, run: Run) -> Result:
        self._sync(run)
        return Result(status="success", operation=self.name, environment=run.require_target().name,
                      message="No applied migrations: nothing to roll back", details=self.details)

    def success_result(self, run: Run) -> Result:
        self._sync(run)
        target = run.require_target()
        return Result(status="warning" if run.warnings else "success", operation=self.name, environment=target.name,
                      message=f"Rolled back {len(self.details.rolled_back)} migration(s) on {target.name}: "
                      f"{', '.join(self.details.rolled_back)}", details=self.details, warnings=run.warnings,
                      suggested_fixes=[f"Re-apply with `faber-db migrate {target.name}`"])

    def failure_result(self, run: Run, error: FaberError) -> Result:
        self._sync(run)
        return super().failure_result(run, error)

    def audit_fields(self, run: Run) -> dict[str, Any]:
        return {"strategy": self.details.strategy, "undoes": self.details.undoes,
                "rolled_back": self.details.rolled_back}
