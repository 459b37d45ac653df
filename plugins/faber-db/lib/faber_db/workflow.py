"""Building blocks shared by every operation that changes a database (migrate, restore, rollback,
db-create): recorded steps, plan-id approval, verified backups, the audit line."""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faber_db import audit
from faber_db.errors import FaberError
from faber_db.output import progress
from faber_db.results import Result, Timer

if TYPE_CHECKING:
    from faber_db.backups import BackupManifest
    from faber_db.engines import Database
    from faber_db.runtime import Target

StepStatus = Literal["ok", "warning", "failed", "skipped"]


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
        step = Step(name, message=message)
        self.records.append(step)
        timer = Timer()
        try:
            yield step
        except BaseException as exc:
            step.status = "failed"
            step.message = exc.message if isinstance(exc, FaberError) else (step.message or type(exc).__name__)
            raise
        finally:
            step.duration_ms = timer.ms

    def skip(self, name: str, message: str) -> None:
        self.records.append(Step(name, "skipped", 0, message))


def plan_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def approval_source(target: Target, approve: str | None, plan_id: str, *, action: str, command: str,
                    details: dict[str, Any]) -> str:
    """How a protected change was approved: `--approve` equal to the plan id computed now, or a person
    typing the environment name at a terminal. Otherwise refused (exit 3), the plan in the details."""
    if approve is not None:
        if approve != plan_id:
            raise FaberError(
                "PLAN_CHANGED",
                f"The approved plan {approve} is not what would be done now (plan {plan_id}); nothing was changed",
                f"Preview again (`{command} --dry-run`), show the new plan, and approve that.", details=details)
        return "--approve"
    if sys.stdin.isatty() and sys.stderr.isatty():
        sys.stderr.write(f"\n{action} on protected environment {target.name} (plan {plan_id}).\n"
                         "Type the environment name to continue: ")
        sys.stderr.flush()
        if sys.stdin.readline().strip() == target.name:
            return "typed at the terminal"
    raise FaberError(
        "APPROVAL_REQUIRED",
        f"{target.name} is protected: {action.lower()} needs the approval of plan {plan_id}; nothing was changed",
        f"Show the plan to the user; with their OK: {command} --approve {plan_id}", details=details)


def backup_dir(target: Target) -> Path:
    return target.loaded.resolve(target.loaded.config.backup.directory)


def take_backup(target: Target, *, label: str, migrations: list[str], connection: Database | None = None
                ) -> tuple[BackupManifest, BackupRef]:
    """A verified backup of the environment now (verified before this returns); `connection`: an open
    PostgreSQL session to reuse (it must not be inside a transaction)."""
    from faber_db.backups import create_backup

    config = target.loaded.config
    manifest = create_backup(
        provider=target.provider, url=target.url, schema_dir=target.handler.schema_dir,
        backup_dir=backup_dir(target), environment=target.name, migrations=migrations, label=label,
        provider_name=config.backup.provider, progress=progress, compression=config.backup.compression,
        connection=connection, schemas=target.handler.database_schemas())
    path = backup_dir(target) / target.name / manifest.file
    try:
        shown = str(path.relative_to(target.loaded.project_root))
    except ValueError:
        shown = str(path)
    return manifest, BackupRef(manifest.id, shown, manifest.verified, manifest.size_bytes)


def record_audit(target: Target, steps: Steps, result: Result, entry: dict[str, Any]) -> None:
    """Append the audit line; a failure to write it is a warning on the result, never silent."""
    with steps.run("audit_log") as step:
        try:
            audit.append(target.loaded.project_root, {
                "environment": target.name, "status": result.status, "message": result.message, **entry})
            step.message = "appended to .fractary/plugins/faber-db/audit.jsonl"
        except OSError as exc:
            step.status, step.message = "warning", f"audit log not written: {exc.strerror}"
            result.warnings.append(step.message)


def prune(target: Target, warnings: list[str]) -> list[str]:
    from faber_db.backups import prune_backups

    config = target.loaded.config.backup
    try:
        return prune_backups(backup_dir(target), target.name, config.keep_count, config.keep_days)
    except (OSError, FaberError) as exc:
        warnings.append(f"Old backups were not pruned: {exc}")
        return []


@dataclass
class Outcome:
    """What a failed-then-restored operation reports."""

    restored: bool = False
    restore_verified: bool = False
    messages: list[str] = field(default_factory=list)
