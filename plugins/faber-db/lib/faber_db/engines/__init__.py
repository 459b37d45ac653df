"""The databases faber-db talks to directly: SQLite through the stdlib, PostgreSQL through pg8000.

One module per engine (`sqlite`, `postgres`) holds everything specific to that database; the rest
of faber-db asks `engine(provider)` or an open `Database` and never compares provider names. This
package knows connection URLs and catalogs, nothing about any migration tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from faber_db.engines.model import (
    Catalog,
    DataSnapshot,
    Progress,
    Row,
    TakenBackup,
    diff_snapshots,
    quote_ident,
    quote_literal,
)
from faber_db.engines.postgres import (
    PostgresDatabase,
    PostgresEngine,
    PostgresTarget,
    create_temp_database,
    drop_database_quietly,
    parse_postgres_url,
)
from faber_db.engines.sqlite import SqliteDatabase, SqliteEngine, SqliteTarget, parse_sqlite_url
from faber_db.errors import FaberError

__all__ = [
    "Catalog",
    "DataSnapshot",
    "Database",
    "Engine",
    "PostgresDatabase",
    "PostgresTarget",
    "Row",
    "SqliteDatabase",
    "SqliteTarget",
    "TakenBackup",
    "can_restore",
    "create_temp_database",
    "database_identity",
    "diff_snapshots",
    "drop_database_quietly",
    "engine",
    "open_database",
    "parse_postgres_url",
    "parse_sqlite_url",
    "quote_ident",
    "quote_literal",
]


class Database(Protocol):
    """An open connection to one database."""

    provider: str
    label: str
    # whether sessions can hold advisory locks (a guarded run keeps such a session open to the end)
    advisory_locks: bool

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def run_script(self, script: str) -> None:
        """A whole migration file (several statements, no parameters)."""
        ...

    def apply_script(self, script: str, record: Sequence[tuple[str, Sequence[Any]]] = (), *,
                     timeout: float | None = None) -> None:
        """`script` and then the `record` statements (sql, params) in one transaction: all or nothing.
        A failure is a FaberError carrying the database's message; nothing of it stays. `timeout`:
        seconds the script may run before the database stops it (the FaberError's details then say
        `timed_out`)."""
        ...

    def table_exists(self, name: str) -> bool: ...

    def tables(self) -> list[str]: ...

    def row_count(self, table: str) -> int: ...

    def server_version(self) -> str: ...

    def catalog(self, skip_tables: frozenset[str] = frozenset()) -> Catalog:
        """The database's shape (tables, columns, indexes, constraints, ...), for comparisons."""
        ...

    def snapshot(self, schemas: Sequence[str] = ()) -> DataSnapshot:
        """Row counts, content checksums and a schema hash: what a backup must give back.
        `schemas`: PostgreSQL schemas to include besides the URL's (a multiSchema backup's)."""
        ...

    def try_advisory_lock(self, key: int) -> bool:
        """A lock that keeps other machines out for the session; True where the engine has none."""
        ...

    def advisory_unlock(self, key: int) -> None: ...

    def end_sessions_since(self, seconds: float) -> list[int]:
        """End this user's other sessions that began in the last `seconds` (a killed child's)."""
        ...

    def health_figures(self) -> dict[str, int]:
        """`size_bytes`, and where the server knows them, connections and waiting locks."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Database: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Engine(Protocol):
    """What faber-db does with a database it reaches by URL."""

    name: str
    backup_suffix: str
    # a read while a migration writes makes the writer fail (SQLite's shared file lock: SQLITE_BUSY)
    # instead of waiting, so nothing may poll the database during a deploy
    reads_disturb_writers: bool
    # a killed client's sessions go on in the server (PostgreSQL notices a dead client only when it next
    # writes to it), holding locks and possibly committing later: they must be ended
    sessions_outlive_clients: bool
    # objects live in named schemas (`"audit"."Event"`; a URL's `?schema=` picks one): names in SQL may
    # need qualifying; False on SQLite, whose one namespace is the file
    named_schemas: bool
    # the database is one of several on a server (PostgreSQL): a tool's shadow databases are made beside
    # it there, and one a killed tool leaves behind must be found and dropped; False for a lone file
    server_holds_databases: bool
    # ALTER TABLE drops a column or a constraint in place; False where the table is rebuilt instead
    # (SQLite: a generated down script of such a change is the tool's own)
    alters_tables_in_place: bool
    # the statements that switch foreign-key checks off and back on around dropping a table (SQLite's
    # pragma); None where a drop needs none
    foreign_keys_off_on: tuple[str, str] | None

    def open(self, url: str, *, schema_dir: Path, create: bool = False,
             connect_timeout: float = 5.0) -> Database: ...

    def identity(self, url: str, schema_dir: Path) -> str:
        """Which database this is, without secrets: binds a plan to one database."""
        ...

    def database_name(self, url: str, schema_dir: Path) -> str: ...

    def database_exists(self, url: str, schema_dir: Path) -> bool: ...

    def create_database(self, url: str, schema_dir: Path) -> None: ...

    def scratch_database(self, url: str, schema_dir: Path) -> AbstractContextManager[Database]:
        """An empty database of the same kind (same server), gone afterwards."""
        ...

    def backup(self, *, url: str, schema_dir: Path, dest: Path, progress: Progress | None, compression: int,
               connection: object | None, schemas: Sequence[str] = ()) -> TakenBackup:
        """Write a verified backup to `dest`. `connection` may be reused (PostgreSQL: the session
        that holds the deploy's advisory lock); `schemas`: PostgreSQL schemas the migration tool
        manages besides the URL's (multiSchema)."""
        ...

    def restore(self, *, archive: Path, url: str, schema_dir: Path, expected: DataSnapshot,
                schemas: Sequence[str], backup_id: str, progress: Progress | None) -> DataSnapshot:
        """Put `archive` back, all or nothing, verified against `expected`; returns the restored
        database's snapshot. `schemas`: the backup's (TakenBackup.schemas), empty on SQLite."""
        ...


_ENGINES: dict[str, Engine] = {"sqlite": SqliteEngine(), "postgresql": PostgresEngine()}


def engine(provider: str) -> Engine:
    try:
        return _ENGINES[provider]
    except KeyError:
        raise FaberError("PROVIDER_UNSUPPORTED", f"Provider {provider!r} is not supported yet",
                         "faber-db supports sqlite and postgresql.") from None


def can_restore(backup_provider: str, target_provider: str) -> bool:
    """Whether a backup taken of a `backup_provider` database can be put back into a `target_provider`
    one: only into the same engine (each backup is its engine's own format)."""
    return backup_provider == target_provider


def open_database(provider: str, url: str, *, schema_dir: Path, create: bool = False,
                  connect_timeout: float = 5.0) -> Database:
    return engine(provider).open(url, schema_dir=schema_dir, create=create, connect_timeout=connect_timeout)


def database_identity(provider: str, url: str, schema_dir: Path) -> str:
    """Which database this is, without secrets: binds a plan to one database."""
    return engine(provider).identity(url, schema_dir)
