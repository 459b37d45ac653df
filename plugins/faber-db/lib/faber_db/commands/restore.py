"""`faber-db restore <env> --from BACKUP_ID`: put a verified backup back, safely.

The backup's checksum is checked before anything happens; the current state is backed up first
(so a restore can itself be undone); the restore is atomic (SQLite: a verified copy swapped in;
PostgreSQL: one transaction); afterwards rows, content checksums and schema are compared with the
backup's manifest. Protected environments need the plan-id approval, as migrate does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from faber_db.commands.backup import BackupEntry, entry
from faber_db.engines import database_identity
from faber_db.errors import FaberError
from faber_db.locking import environment_lock
from faber_db.output import progress
from faber_db.planning import compute_state
from faber_db.results import ErrorInfo, Result
from faber_db.runtime import Context
from faber_db.workflow import BackupRef, Step, Steps, approval_source, backup_dir, plan_hash, record_audit, take_backup

HELP = "Restore an environment from a verified backup (after backing up the current state)"


@dataclass
class RestoreDetails:
    dry_run: bool
    plan_id: str
    backup: BackupEntry
    differences: list[str] = field(default_factory=list)
    restored_from: str | None = None
    restore_verified: bool = False
    safety_backup: BackupRef | None = None
    steps: list[Step] = field(default_factory=list)
    # a failed restore: what the tools said (redacted stderr, differences found)
    error_details: dict[str, Any] | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--from", dest="backup_id", required=True, metavar="BACKUP_ID",
                        help="the backup id (see `faber-db backups ENV`)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change and the plan id; change nothing")
    parser.add_argument("--approve", metavar="PLAN_ID", help="protected environments: the dry run's plan id")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    from faber_db.backups import (
        check_integrity,
        diff_snapshots,
        load_manifest,
        restore_backup,
        schemas_of,
        take_snapshot,
    )

    target = ctx.target(args.environment)
    steps = Steps()
    directory = backup_dir(target)
    with steps.run("check_backup") as step:
        manifest = load_manifest(directory, target.name, args.backup_id)
        if manifest.provider != target.provider:
            raise FaberError("INVALID_ARGUMENT", f"Backup {manifest.id} is a {manifest.provider} backup; "
                             f"{target.name} is {target.provider}",
                             f"Pick a backup of {target.name} from `faber-db backups {target.name}`.")
        check_integrity(manifest, directory)
        step.message = f"{manifest.id}: sha256 matches its manifest"
    plan_id = plan_hash(target.name, database_identity(target.provider, target.url, target.handler.schema_dir),
                        "restore", manifest.id, manifest.sha256)
    details = RestoreDetails(dry_run=args.dry_run, plan_id=plan_id, backup=entry(manifest), steps=steps.records)
    with steps.run("compare") as step, target.connect() as db:
        current = take_snapshot(db, schemas_of(manifest))
        state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
        details.differences = diff_snapshots(current, manifest.snapshot)
        step.message = f"{len(details.differences)} difference(s) between now and the backup"
    command = f"faber-db restore {target.name} --from {manifest.id}"
    if args.dry_run:
        return Result(status="success", operation="restore", environment=target.name,
                      message=f"Dry run: restoring {manifest.id} would change {len(details.differences)} thing(s); "
                      f"plan {plan_id}", details=details,
                      suggested_fixes=[f"{command} --approve {plan_id}" if target.env.protected else command])
    if target.env.protected:
        with steps.run("approval") as step:
            step.message = approval_source(target, args.approve, plan_id, action=f"Restoring backup {manifest.id}",
                                           command=command, details={"plan_id": plan_id,
                                                                     "differences": details.differences})
    with environment_lock(target.loaded.project_root, target.name, "restore",
                          wait_seconds=target.loaded.config.safety.lock_wait_seconds):
        with steps.run("safety_backup") as step:
            safety, details.safety_backup = take_backup(target, label=f"before restore of {manifest.id}",
                                                        migrations=state.applied)
            step.message = f"current state saved as {safety.id}"
        try:
            with steps.run("restore") as step:
                restore_backup(manifest, url=target.url, schema_dir=target.handler.schema_dir, backup_dir=directory,
                               progress=progress)
                step.message = "row counts, content checksums and schema match the backup's manifest"
        except FaberError as error:
            details.error_details = error.details or None
            result = Result(status="failure", operation="restore", environment=target.name, message=error.message,
                            details=details, errors=[ErrorInfo(error.code, error.message, error.hint)],
                            suggested_fixes=[f"The state before this restore is backup {safety.id}: "
                                             f"faber-db restore {target.name} --from {safety.id}"])
            record_audit(target, steps, result, {"operation": "restore", "backup_id": manifest.id, "plan_id": plan_id})
            return result
    details.restored_from = manifest.id
    details.restore_verified = True
    result = Result(status="success", operation="restore", environment=target.name,
                    message=f"Restored {target.name} from {manifest.id}; data and schema verified against its manifest",
                    details=details,
                    suggested_fixes=[f"To undo: faber-db restore {target.name} --from {safety.id}"])
    record_audit(target, steps, result, {"operation": "restore", "backup_id": manifest.id, "plan_id": plan_id,
                                         "safety_backup": safety.id, "approved": bool(args.approve)})
    return result
