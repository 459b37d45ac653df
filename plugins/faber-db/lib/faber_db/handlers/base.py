"""What every migration-tool handler offers the rest of faber-db, and the plain data it returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from faber_db.database import Database


@dataclass(frozen=True)
class LocalMigration:
    name: str
    path: Path  # the migration's folder
    sql_path: Path
    checksum: str
    down_path: Path | None = None


@dataclass(frozen=True)
class AppliedMigration:
    """One row of the tool's history table."""

    name: str
    checksum: str
    started_at: str | None
    finished_at: str | None
    rolled_back_at: str | None
    logs: str | None = None
    applied_steps: int = 0


class MigrationHandler(Protocol):
    name: str

    @property
    def migrations_dir(self) -> Path: ...

    @property
    def schema_path(self) -> Path: ...

    @property
    def schema_dir(self) -> Path:
        """Where a relative SQLite file path in a URL starts."""
        ...

    def local_migrations(self) -> list[LocalMigration]: ...

    def applied_migrations(self, db: Database) -> list[AppliedMigration]: ...
