"""`faber-db backup <env>`: a verified backup with a manifest, then retention pruning."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from faber_db.locking import environment_lock
from faber_db.planning import compute_state
from faber_db.results import Result
from faber_db.runtime import Context
from faber_db.workflow import BackupRef, Step, Steps, prune, record_audit, take_backup

HELP = "Take a verified backup of an environment (SQLite backup API / pg_dump -Fc)"


@dataclass
class BackupEntry:
    id: str
    created_at: str
    size_bytes: int
    label: str | None
    migrations: list[str]
    verified: bool
    verification: str
    file: str


@dataclass
class BackupDetails:
    backup: BackupRef
    manifest: BackupEntry
    pruned: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def entry(manifest: object) -> BackupEntry:
    from faber_db.backups import BackupManifest

    assert isinstance(manifest, BackupManifest)
    return BackupEntry(manifest.id, manifest.created_at, manifest.size_bytes, manifest.label, manifest.migrations,
                       manifest.verified, manifest.verification, manifest.file)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--label", help="a note stored in the manifest (e.g. 'before hotfix')")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    target = ctx.target(args.environment)
    steps = Steps()
    warnings: list[str] = []
    with environment_lock(target.loaded.project_root, target.name, "backup",
                          wait_seconds=target.loaded.config.safety.lock_wait_seconds):
        with steps.run("read_state") as step, target.connect() as db:
            state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
            step.message = f"{len(state.applied)} migrations applied"
        with steps.run("create_backup") as step:
            manifest, ref = take_backup(target, label=args.label, migrations=state.applied)
            step.message = manifest.verification
        with steps.run("prune") as step:
            pruned = prune(target, warnings)
            step.message = f"pruned {len(pruned)}" if pruned else "nothing to prune"
    details = BackupDetails(backup=ref, manifest=entry(manifest), pruned=pruned, steps=steps.records)
    result = Result(status="warning" if warnings else "success", operation="backup", environment=target.name,
                    message=f"Backup {manifest.id} of {target.name} taken and verified ({manifest.size_bytes} bytes)",
                    details=details, warnings=warnings,
                    suggested_fixes=[f"Restore it with: faber-db restore {target.name} --from {manifest.id}"])
    record_audit(target, steps, result, {"operation": "backup", "backup_id": manifest.id, "label": args.label})
    return result
