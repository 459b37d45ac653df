"""`restore`: put a verified backup back over an environment.

Read: the backup's manifest and its sha256 (checked before anything else), the live data's snapshot
and history. Plan: per table, the live rows the restore removes and the rows it puts back; which
applied migrations it undoes or brings back. The current state is always backed up first (a restore
can itself be undone); the restore is atomic (SQLite: a verified copy swapped in; PostgreSQL: one
transaction) and verified against the manifest (rows, content checksums, schema).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError
from faber_db.operations.backup import BackupEntry, entry
from faber_db.output import progress
from faber_db.planning import compute_state
from faber_db.plans import Binding, Plan, row_bucket
from faber_db.results import Result
from faber_db.workflow import BackupRef, BackupScope, GuardedOperation, Request, Run, Step, backup_dir, run_guarded

if TYPE_CHECKING:
    from faber_db.backups import BackupManifest, DataSnapshot
    from faber_db.runtime import Context


@dataclass
class TableChange:
    table: str
    live_rows: int | None  # None: the live database has no such table (the restore brings it back)
    backup_rows: int | None  # None: the backup has no such table (the restore removes it)
    content_differs: bool


@dataclass
class RestoreDetails:
    dry_run: bool
    plan_id: str | None = None
    backup: BackupEntry | None = None
    # what the restore does, in words, table by table
    differences: list[str] = field(default_factory=list)
    tables: list[TableChange] = field(default_factory=list)
    live_rows_removed: int = 0
    undoes_migrations: list[str] = field(default_factory=list)
    brings_back_migrations: list[str] = field(default_factory=list)
    restored_from: str | None = None
    restore_verified: bool = False
    safety_backup: BackupRef | None = None
    steps: list[Step] = field(default_factory=list)
    # a failed restore: what the tools said (redacted stderr, differences found)
    error_details: dict[str, Any] | None = None


@dataclass
class RestoreOptions:
    environment: str
    backup_id: str
    dry_run: bool = False
    approve: str | None = None


def restore(ctx: Context, options: RestoreOptions) -> Result:
    return run_guarded(ctx, RestoreOperation(options), Request(
        environment=options.environment, dry_run=options.dry_run, approve=options.approve))


def changes(live: DataSnapshot, backup: DataSnapshot) -> list[TableChange]:
    live_tables, backup_tables = live.data_tables, backup.data_tables
    found = []
    for name in sorted(set(live_tables) | set(backup_tables)):
        differs = live.checksums.get(name) != backup.checksums.get(name)
        if differs or live_tables.get(name) != backup_tables.get(name):
            found.append(TableChange(name, live_tables.get(name), backup_tables.get(name), differs))
    return found


def describe(change: TableChange) -> str:
    if change.backup_rows is None:
        return f"{change.table}: the restore removes the table and its {change.live_rows} live rows"
    if change.live_rows is None:
        return f"{change.table}: the restore brings the table back with {change.backup_rows} rows"
    return (f"{change.table}: the restore removes the {change.live_rows} live rows and puts back the backup's "
            f"{change.backup_rows}")


class RestoreOperation(GuardedOperation):
    name = "restore"
    plan_step = "compare"

    def __init__(self, options: RestoreOptions) -> None:
        self.options = options
        self.details = RestoreDetails(dry_run=options.dry_run)
        self.manifest: BackupManifest | None = None
        self.live: DataSnapshot | None = None

    def backup_scope(self, run: Run) -> BackupScope:
        return "always"

    def command(self, run: Run) -> str:
        return f"faber-db restore {run.require_target().name} --from {self.options.backup_id}"

    def read(self, run: Run) -> None:
        from faber_db.backups import check_integrity, load_manifest, schemas_of, take_snapshot
        from faber_db.engines import can_restore

        target = run.require_target()
        with run.steps.run("check_backup") as step:
            manifest = load_manifest(backup_dir(target), target.name, self.options.backup_id)
            if not can_restore(manifest.provider, target.provider):
                raise FaberError("INVALID_ARGUMENT", f"Backup {manifest.id} is a {manifest.provider} backup; "
                                 f"{target.name} is {target.provider}",
                                 f"Pick a backup of {target.name} from `faber-db backups {target.name}`.")
            check_integrity(manifest, backup_dir(target))
            self.manifest = manifest
            self.details.backup = entry(manifest, backup_dir(target), run.root)
            step.message = f"{manifest.id}: sha256 matches its manifest"
        db = run.attach_session(target.connect())
        self.live = take_snapshot(db, schemas_of(manifest))
        state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
        run.applied_before = list(state.applied)

    def plan(self, run: Run) -> Plan:
        from faber_db.engines import database_identity
        from faber_db.operations.migrate import safety_binding

        target, manifest, live, details = run.require_target(), self.manifest, self.live, self.details
        assert manifest is not None and live is not None
        details.tables = changes(live, manifest.snapshot)
        details.differences = [describe(change) for change in details.tables]
        if live.schema_hash != manifest.snapshot.schema_hash:
            details.differences.append("schema: the restore puts back the backup's tables, columns, indexes and "
                                       "constraints")
        details.live_rows_removed = sum(change.live_rows or 0 for change in details.tables)
        details.undoes_migrations = [m for m in reversed(run.applied_before) if m not in manifest.migrations]
        details.brings_back_migrations = [m for m in manifest.migrations if m not in run.applied_before]
        binding = Binding(
            operation=self.name, environment=target.name,
            database=database_identity(target.provider, target.url, target.handler.schema_dir),
            safety=safety_binding(target),
            inputs={"backup": [manifest.id, manifest.sha256], "schema": live.schema_hash,
                    "live_rows": {name: row_bucket(rows) for name, rows in sorted(live.data_tables.items())},
                    "migrations": run.applied_before})
        summary = [f"restore backup {manifest.id} taken {manifest.created_at} ({len(manifest.migrations)} "
                   "migrations applied then)", *details.differences]
        if details.undoes_migrations:
            summary.append(f"undoes migrations: {', '.join(details.undoes_migrations)}")
        return Plan(binding=binding, summary=summary, has_changes=True,
                    title=f"Restore {target.name} from {manifest.id}: {details.live_rows_removed} live rows replaced")

    def apply(self, run: Run) -> None:
        from faber_db.backups import restore_backup

        target, manifest = run.require_target(), self.manifest
        assert manifest is not None
        self.details.safety_backup = run.backup_ref
        with run.steps.run("restore") as step:
            restore_backup(manifest, url=target.url, schema_dir=target.handler.schema_dir,
                           backup_dir=backup_dir(target), progress=progress)
            step.message = "row counts, content checksums and schema match the backup's manifest"

    def verify(self, run: Run) -> None:
        # restore_backup compared the restored data with the manifest before returning
        self.details.restored_from = self.manifest.id if self.manifest else None
        self.details.restore_verified = True

    def backup_label(self, run: Run) -> str:
        return f"before restore of {self.options.backup_id}"

    def _sync(self, run: Run) -> None:
        self.details.plan_id = run.plan.plan_id if run.plan else None
        self.details.safety_backup = run.backup_ref

    def preview_result(self, run: Run) -> Result:
        self._sync(run)
        target, details = run.require_target(), self.details
        approve = f" --approve {details.plan_id}" if target.env.protected else ""
        return Result(status="success", operation=self.name, environment=target.name, details=details,
                      warnings=run.warnings,
                      message=f"Dry run: restoring {self.options.backup_id} removes {details.live_rows_removed} live "
                      f"row(s) in {len(details.tables)} table(s); plan {details.plan_id}",
                      suggested_fixes=[f"{self.command(run)}{approve}"])

    def nothing_to_do(self, run: Run) -> Result:  # a restore always has something to do
        return self.success_result(run)

    def success_result(self, run: Run) -> Result:
        self._sync(run)
        target = run.require_target()
        safety = run.backup_ref.id if run.backup_ref else None
        return Result(status="warning" if run.warnings else "success", operation=self.name, environment=target.name,
                      message=f"Restored {target.name} from {self.options.backup_id}; data and schema verified "
                      "against its manifest", details=self.details, warnings=run.warnings,
                      suggested_fixes=[f"To undo: `faber-db restore {target.name} --from {safety}`"] if safety else [])

    def failure_result(self, run: Run, error: FaberError) -> Result:
        self._sync(run)
        self.details.error_details = error.details or None
        return super().failure_result(run, error)

    def audit_fields(self, run: Run) -> dict[str, Any]:
        return {"restored_from": self.options.backup_id,
                "safety_backup": run.backup_ref.id if run.backup_ref else None}
