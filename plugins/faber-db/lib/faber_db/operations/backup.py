"""`backup` and `backups`: take a verified backup of an environment (under its lock, audited, then
retention), and list an environment's backups, newest first.

A backup changes no database, so it is not a guarded change; it holds the environment's file lock so
that it never runs beside a deploy of the same environment on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.locking import environment_lock
from faber_db.planning import compute_state
from faber_db.results import Result
from faber_db.workflow import BackupRef, Step, Steps, backup_dir, prune, record_audit, take_backup

if TYPE_CHECKING:
    from faber_db.backups import BackupManifest
    from faber_db.runtime import Context


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
    # the backup file, relative to the project when it is inside it
    path: str = ""


@dataclass
class BackupDetails:
    backup: BackupRef
    manifest: BackupEntry
    pruned: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


@dataclass
class BackupsDetails:
    directory: str
    backups: list[BackupEntry]


def shown_path(path: Path, project_root: Path) -> str:
    try:
        return str(path.relative_to(project_root))
    except ValueError:
        return str(path)


def entry(manifest: BackupManifest, directory: Path, project_root: Path) -> BackupEntry:
    """A manifest as results show it; `directory` is the environments' backup folder."""
    return BackupEntry(manifest.id, manifest.created_at, manifest.size_bytes, manifest.label, manifest.migrations,
                       manifest.verified, manifest.verification, manifest.file,
                       shown_path(directory / manifest.environment / manifest.file, project_root))


def take(ctx: Context, environment: str, label: str | None) -> Result:
    target = ctx.target(environment)
    steps = Steps()
    warnings: list[str] = []
    with environment_lock(target.loaded.project_root, target.name, "backup",
                          wait_seconds=target.loaded.config.safety.lock_wait_seconds):
        with steps.run("read_state") as step, target.connect() as db:
            state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
            step.message = f"{len(state.applied)} migrations applied"
        with steps.run("create_backup") as step:
            manifest, ref = take_backup(target, label=label, migrations=state.applied)
            step.message = manifest.verification
        with steps.run("retention") as step:
            pruned = prune(target, warnings)
            step.message = f"pruned {len(pruned)}" if pruned else "nothing to prune"
    details = BackupDetails(backup=ref, manifest=entry(manifest, backup_dir(target), target.loaded.project_root),
                            pruned=pruned, steps=steps.records)
    result = Result(status="warning" if warnings else "success", operation="backup", environment=target.name,
                    message=f"Backup {manifest.id} of {target.name} taken and verified ({manifest.size_bytes} bytes)",
                    details=details, warnings=warnings,
                    suggested_fixes=[f"Restore it with: faber-db restore {target.name} --from {manifest.id}"])
    record_audit(target, steps, result, {"operation": "backup", "backup_id": manifest.id, "label": label})
    return result


def listing(ctx: Context, environment: str) -> Result:
    from faber_db.backups import list_backups

    loaded = ctx.load()
    name, _ = loaded.environment(environment)
    directory = loaded.resolve(loaded.config.backup.directory)
    found = [entry(m, directory, loaded.project_root) for m in list_backups(directory, name)]
    return Result(status="success", operation="backups", environment=name,
                  message=f"{len(found)} backup(s) of {name}" + (f", newest {found[0].id}" if found else ""),
                  details=BackupsDetails(directory=shown_path(directory / name, loaded.project_root), backups=found))
