"""What every migration-tool handler offers the rest of faber-db, and the plain data it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from faber_db.engines import Database
from faber_db.errors import FaberError

if TYPE_CHECKING:
    import subprocess


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


@dataclass(frozen=True)
class SchemaDiff:
    """The two scripts `generate-migration` writes: history → schema, and schema → history."""

    changed: bool
    up_sql: str
    down_sql: str
    # When down_sql was derived from up_sql (it only drops what up_sql created): the data it drops,
    # as (table, column or None for the whole table). None: down_sql is Prisma's, analyse it.
    down_drops: list[tuple[str, str | None]] | None = None


class MigrationHandler(Protocol):
    name: str
    empty_migration_sql: str

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

    def version(self) -> str | None: ...

    def manages_own_shadow(self) -> bool:
        """True when the tool makes its own shadow database (no shadow URL may be passed)."""
        ...

    def diff_schema(self, *, database_url: str | None, shadow_url: str | None = None,
                    down_shadow_url: str | None = None,
                    while_reverse_runs: Callable[[], None] | None = None) -> SchemaDiff: ...

    def summarize(self, sql: str) -> list[dict[str, str]]: ...

    def database_schemas(self) -> list[str]:
        """Database schemas the history manages besides the URL's own (what backups cover too)."""
        ...

    def write_migration(self, name: str, up_sql: str, down_sql: str | None) -> Path: ...

    def deploy(self, *, database_url: str, timeout: float | None = None,
               on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[str]: ...

    def applying_migration(self, line: str) -> str | None:
        """The migration a progress line of `deploy` says is being applied, if any."""
        ...

    def client_generation(self) -> tuple[bool, str]: ...

    def generate_client(self, *, database_url: str | None) -> subprocess.CompletedProcess[str]: ...

    def execute_script(self, path: Path, *, database_url: str) -> subprocess.CompletedProcess[str]: ...

    def forget_migrations(self, db: Database, names: list[str]) -> None: ...

    def error_from(self, result: subprocess.CompletedProcess[str], what: str) -> FaberError: ...
