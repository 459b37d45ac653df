"""Prisma's migration history: the `<migrations>/<name>/migration.sql` folders on disk, and the
`_prisma_migrations` table that records what was applied, read and edited directly (exact, and
about 10x faster than `prisma migrate status`)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.files import read_project_file
from faber_db.handlers.base import AppliedMigration, LocalMigration
from faber_db.handlers.prisma.facts import FACTS

if TYPE_CHECKING:
    from faber_db.engines import Database

HISTORY_TABLE = FACTS.history_table
MIGRATION_FILE = "migration.sql"
DOWN_FILE = "down.sql"
LOCK_FILE = "migration_lock.toml"


def local_migrations(directory: Path, root: Path) -> list[LocalMigration]:
    """The migration folders, in the order Prisma applies them (`root`: the project, which no
    migration file may link out of)."""
    found = []
    for folder in _migration_folders(directory):
        sql = folder / MIGRATION_FILE
        down = folder / DOWN_FILE
        found.append(LocalMigration(
            name=folder.name,
            path=folder,
            sql_path=sql,
            # what Prisma stores: sha256 of the file's bytes
            checksum=hashlib.sha256(read_project_file(sql, root, what="migration")).hexdigest(),
            down_path=down if down.is_file() else None,
        ))
    found.sort(key=lambda m: m.name)  # Prisma applies in lexicographic order of folder names
    return found


def has_migrations(directory: Path) -> bool:
    """Whether `directory` holds a migration folder (none is read)."""
    return any(True for _ in _migration_folders(directory))


def _migration_folders(directory: Path) -> Iterator[Path]:
    """Each folder of `directory` holding a migration.sql, in no order."""
    if not directory.is_dir():
        return
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir() and (Path(entry.path) / MIGRATION_FILE).is_file():
                yield Path(entry.path)


def applied(db: Database) -> list[AppliedMigration]:
    """Every row of the history table, oldest first (none when the table does not exist)."""
    if not db.table_exists(HISTORY_TABLE):
        return []
    rows = db.query(
        "SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs, "
        f"applied_steps_count FROM {HISTORY_TABLE} ORDER BY started_at, migration_name"
    )
    return [
        AppliedMigration(
            name=str(r[0]), checksum=str(r[1]), started_at=_ts(r[2]), finished_at=_ts(r[3]),
            rolled_back_at=_ts(r[4]), logs=r[5], applied_steps=int(r[6] or 0),
        )
        for r in rows
    ]


def forget(db: Database, names: list[str]) -> None:
    """Remove rolled-back migrations from the history table, so Prisma sees them as pending."""
    for name in names:
        db.execute(f"DELETE FROM {HISTORY_TABLE} WHERE migration_name = ?", (name,))


def _ts(value: object) -> str | None:
    """Timestamps as ISO strings; Prisma stores them as epoch milliseconds on SQLite."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        from datetime import datetime, timezone

        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).isoformat()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
