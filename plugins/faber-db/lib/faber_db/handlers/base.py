"""What every migration-tool handler offers the rest of faber-db, and the plain data it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    # what the user should know about the run (e.g. a scratch database that could not be dropped)
    warnings: list[str] = field(default_factory=list)


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

    def diffs_from_database(self) -> bool:
        """True when the tool can diff a database faber-db replayed the history into; False when it
        replays the history itself (into a shadow database of its own)."""
        ...

    def check_datasource(self) -> None:
        """Raise when the tool could not be pointed at an environment's database."""
        ...

    def diff_schema(self, *, database_url: str | None, from_database: bool,
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
