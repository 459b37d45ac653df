"""Retention: how many backups, and how old, an environment keeps; and what a killed backup left.

Retention runs under the environment's lock, like every backup, so a temp file or a backup file
without its manifest found then belongs to a backup whose process is gone: it is removed.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from faber_db.backups.store import backup_file, env_dir, list_backups
from faber_db.errors import FaberError

# a backup's temp file or write probe (`.<id>.sqlite.tmp`, `.<id>.probe`), or its file (`<id>.dump`)
_LEFTOVER = re.compile(r"^\.(?P<id>\d{8}T\d{6}Z-[0-9a-f]{4,})[.\w-]*\.(?:tmp|probe)$")
_BACKUP_FILE = re.compile(r"^(?P<id>\d{8}T\d{6}Z-[0-9a-f]{4,})\.[a-z]+$")


def remove_leftovers(backup_dir: Path, environment: str) -> list[str]:
    """Remove what killed backups left (temp files, files whose manifest was never written); the
    caller holds the environment's lock, so no backup is being written now. Returns the names."""
    folder = env_dir(backup_dir, environment)
    if not folder.is_dir():
        return []
    removed: list[str] = []
    for path in folder.iterdir():
        backup = _BACKUP_FILE.match(path.name)
        orphan = backup is not None and not (folder / f"{backup['id']}.json").exists()
        if path.is_file() and (_LEFTOVER.match(path.name) or orphan):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path.name)
    return sorted(removed)


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
