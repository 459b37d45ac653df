"""Everything SQLite: the URL, connections through the stdlib, the catalog, creating the file."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from faber_db.engines.model import Catalog, Row, quote_ident
from faber_db.errors import FaberError


@dataclass(frozen=True)
class SqliteTarget:
    path: Path


def parse_sqlite_url(url: str, relative_to: Path) -> SqliteTarget:
    """`file:./dev.db` is relative to the schema's folder, as the Prisma schema engine resolves it."""
    if not url.startswith("file:"):
        raise FaberError("DATABASE_URL_INVALID", "A SQLite URL must start with file:",
                         "Use file:/absolute/path/dev.db or file:./dev.db (relative to the schema's folder).")
    raw = url[len("file:"):].split("?", 1)[0]
    if raw.startswith("//"):
        raw = raw[2:]
    if not raw:
        raise FaberError("DATABASE_URL_INVALID", "The SQLite URL names no file",
                         "Use file:/absolute/path/dev.db or file:./dev.db.")
    path = Path(unquote(raw))
    return SqliteTarget(path if path.is_absolute() else (relative_to / path).resolve())


class SqliteDatabase:
    provider = "sqlite"

    def __init__(self, path: Path, *, create: bool = False, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.label = f"sqlite database {path.name}"
        self.exists = path.is_file()
        if not self.exists and not create:
            # Read-only callers see an empty database without creating a file.
            self._conn = sqlite3.connect(":memory:")
            return
        if not path.parent.is_dir():
            raise FaberError("DATABASE_UNREACHABLE", f"The folder of {self.label} does not exist",
                             "Check the environment's SQLite URL.")
        try:
            self._conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise FaberError("DATABASE_UNREACHABLE", f"Cannot open {self.label}: {exc}",
                             "Check the file's path and permissions.") from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]
        except sqlite3.DatabaseError as exc:
            raise FaberError("DATABASE_ERROR", f"{self.label}: {exc}",
                             "The database rejected faber-db's query; is it a SQLite database?") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.query(sql, params)

    def run_script(self, script: str) -> None:
        """A whole migration file, as Prisma runs it (several statements, no parameters)."""
        try:
            self._conn.executescript(script)
        except sqlite3.Error as exc:
            raise FaberError("DATABASE_ERROR", f"{self.label}: {exc}", "Check the script's SQL.") from None

    def table_exists(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)))

    def tables(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type='table' "
                          "AND name NOT LIKE 'sqlite_%' ORDER BY name")
        return [r[0] for r in rows]

    def row_count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {quote_ident(table)}")[0][0])

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def catalog(self, skip_tables: frozenset[str] = frozenset()) -> Catalog:
        """Tables, columns, indexes and foreign keys, for comparing two databases' shapes."""
        catalog: Catalog = {"table": {}, "column": {}, "index": {}, "constraint": {}}
        for table in self.tables():
            if table in skip_tables:
                continue
            quoted = quote_ident(table)
            catalog["table"][(table, table)] = "table"
            for _cid, name, type_, notnull, default, pk in self.query(f"PRAGMA table_info({quoted})"):
                catalog["column"][(table, name)] = (f"{type_} {'NOT NULL' if notnull else 'NULL'} "
                                                    f"default={default} pk={pk}")
            for _seq, name, unique, origin, partial in self.query(f"PRAGMA index_list({quoted})"):
                columns = [r[2] for r in self.query(f"PRAGMA index_info({quote_ident(name)})")]
                shape = f"unique={unique} origin={origin} partial={partial}"
                catalog["index"][(table, name)] = f"{shape} ({', '.join(columns)})"
            for row in self.query(f"PRAGMA foreign_key_list({quoted})"):
                _id, _seq, ref, column, ref_column, on_update, on_delete = row[:7]
                key = f"fk:{column}->{ref}.{ref_column}"
                catalog["constraint"][(table, key)] = f"on update {on_update} on delete {on_delete}"
        return catalog

    def try_advisory_lock(self, key: int) -> bool:
        """SQLite has no advisory locks; the file lock of the workflow covers this machine."""
        return True

    def advisory_unlock(self, key: int) -> None:
        return None

    def end_sessions_since(self, seconds: float) -> list[int]:
        """No server, no sessions to end."""
        return []

    def health_figures(self) -> dict[str, int]:
        return {"size_bytes": self.path.stat().st_size if self.path.exists() else 0}

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteEngine:
    name = "sqlite"

    @staticmethod
    def quote_ident(name: str) -> str:
        return quote_ident(name)

    @staticmethod
    def open(url: str, *, schema_dir: Path, create: bool = False, connect_timeout: float = 5.0) -> SqliteDatabase:
        return SqliteDatabase(parse_sqlite_url(url, schema_dir).path, create=create, busy_timeout=connect_timeout)

    @staticmethod
    def identity(url: str, schema_dir: Path) -> str:
        return f"sqlite:{parse_sqlite_url(url, schema_dir).path}"

    @staticmethod
    def database_name(url: str, schema_dir: Path) -> str:
        return parse_sqlite_url(url, schema_dir).path.name

    @staticmethod
    def database_exists(url: str, schema_dir: Path) -> bool:
        return parse_sqlite_url(url, schema_dir).path.is_file()

    @staticmethod
    def create_database(url: str, schema_dir: Path) -> None:
        path = parse_sqlite_url(url, schema_dir).path
        if not path.parent.is_dir():
            raise FaberError("INVALID_ARGUMENT", f"The folder for {path.name} does not exist",
                             "Create the folder first, or fix the environment's SQLite URL.")
        sqlite3.connect(str(path)).close()

    @staticmethod
    @contextlib.contextmanager
    def scratch_database(url: str, schema_dir: Path) -> Iterator[SqliteDatabase]:
        """An empty database file in a temp folder, gone afterwards (also on errors and Ctrl-C)."""
        with tempfile.TemporaryDirectory(prefix="faber-scratch-") as tmp, \
                SqliteDatabase(Path(tmp) / "scratch.db", create=True) as db:
            yield db
