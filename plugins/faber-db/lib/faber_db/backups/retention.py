"""Retention: how many backups, and how old, an environment keeps."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from faber_db.backups.store import backup_file, env_dir, list_backups
from faber_db.errors import FaberError


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def prune_backups(backup_dir: Path, environment: str, keep_count: int, keep_days: int,
                  now: datetime | None = None) -> list[str]:
    """Delete faber-db backups beyond `keep_count` newest or older than `keep_days` (0 = no limit);
    the newest verified backup always stays. Only manifests faber-db wrote and their files are
    touched. Returns the pruned ids."""
    now = now or datetime.now(timezone.utc)
    manifests = list_backups(backup_dir, environment)
    newest_verified = next((m.id for m in manifests if m.verified), None)
    folder = env_dir(backup_dir, environment)
    pruned: list[str] = []
    for index, manifest in enumerate(manifests):
        if manifest.id == newest_verified:
            continue
        too_many = keep_count > 0 and index >= keep_count
        try:
            too_old = keep_days > 0 and now - _parse_time(manifest.created_at) > timedelta(days=keep_days)
        except ValueError:
            too_old = False
        if not (too_many or too_old):
            continue
        with contextlib.suppress(FaberError, FileNotFoundError):
            backup_file(manifest, backup_dir).unlink()
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{manifest.id}.json").unlink()
        pruned.append(manifest.id)
    return pruned
