"""Everything SQLite: the URL, connections through the stdlib, the catalog, creating the file."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from faber_db.engines.model import (
    Catalog,
    DataSnapshot,
    Progress,
    Queryable,
    Row,
    TakenBackup,
    diff_snapshots,
    quote_ident,
    say,
)
from faber_db.errors import FaberError
from faber_db.files import fsync_dir, fsync_file
from faber_db.redact import redact

SNAPSHOT_FORMAT = "sqlite-sha256-v1"
RESTORE_TMP_MARK = ".faber-restore-"


@dataclass(frozen=True)
class SqliteTarget:
    path: Path


def parse_sqlite_url(url: str, relative_to: Path) -> SqliteTarget:
    """`file:./dev.db` is relative to `relative_to` (the handler's `schema_dir`: where its tool resolves it)."""
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
    advisory_locks = False

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
        """A whole migration file, as migration tools run it (several statements, no parameters)."""
        try:
            self._conn.executescript(script)
        except sqlite3.Error as exc:
            raise FaberError("DATABASE_ERROR", f"{self.label}: {exc}", "Check the script's SQL.") from None

    def apply_script(self, script: str, record: Sequence[tuple[str, Sequence[Any]]] = (), *,
                     timeout: float | None = None) -> None:
        """The script and the statements recording it, in one transaction: all of it or none of it.
        Past `timeout` seconds the running statement is interrupted (sqlite3_interrupt) and all of it undone."""
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            self._conn.interrupt()

        interrupt = threading.Timer(timeout, stop) if timeout is not None else None
        try:
            if interrupt is not None:
                interrupt.start()
            # one executescript from BEGIN on: a statement that fails leaves the transaction open to undo
            self._conn.executescript("BEGIN;\n" + script + "\n;")
            for sql, params in record:
                self._conn.execute(sql, tuple(params))
            if interrupt is not None:
                interrupt.cancel()  # the COMMIT itself is not interrupted: it is all or nothing anyway
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            timed_out = fired.is_set()
            message = f"stopped after {timeout:g} s (the timeout)" if timed_out else str(exc)
            raise FaberError("DATABASE_ERROR", f"{self.label}: {message}", "Check the script's SQL.",
                             details={"timed_out": timed_out}) from None
        finally:
            if interrupt is not None:
                interrupt.cancel()

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
            # definitions in words a person reads in a drift report (`TEXT, NOT NULL, primary key`)
            for _cid, name, type_, notnull, default, pk in self.query(f"PRAGMA table_info({quoted})"):
                key = "primary key" if pk == 1 else f"primary key (part {pk})" if pk else ""
                parts = [type_ or "untyped", "NOT NULL" if notnull else "nullable",
                         *([f"default {default}"] if default is not None else []), *([key] if key else [])]
                catalog["column"][(table, name)] = ", ".join(parts)
            for _seq, name, unique, origin, partial in self.query(f"PRAGMA index_list({quoted})"):
                columns = [r[2] for r in self.query(f"PRAGMA index_info({quote_ident(name)})")]
                made_by = {"u": ", made by a UNIQUE constraint", "pk": ", made by the PRIMARY KEY"}.get(origin, "")
                catalog["index"][(table, name)] = (f"{'unique index' if unique else 'index'} on ({', '.join(columns)})"
                                                   f"{made_by}{', partial (with WHERE)' if partial else ''}")
            for row in self.query(f"PRAGMA foreign_key_list({quoted})"):
                _id, _seq, ref, column, ref_column, on_update, on_delete = row[:7]
                key = f"foreign key ({column}) references {ref}({ref_column})"
                catalog["constraint"][(table, key)] = f"on update {on_update}, on delete {on_delete}"
        return catalog

    def snapshot(self, schemas: Sequence[str] = ()) -> DataSnapshot:
        """(`schemas` names PostgreSQL schemas; a SQLite file has one.)"""
        return snapshot(self)

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


# --- snapshots, backups and restores ------------------------------------------------------------

def snapshot(db: Queryable) -> DataSnapshot:
    """Row counts and content checksums (sha256 over the rows in primary-key order, then all
    columns) of every table, and a hash of sqlite_master."""
    master = db.query(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    )
    schema = hashlib.sha256(repr([tuple(r) for r in master]).encode()).hexdigest()
    snap = DataSnapshot(schema_hash=f"{SNAPSHOT_FORMAT}:{schema}")
    for (name,) in db.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        columns = db.query(f"PRAGMA table_info({quote_ident(name)})")
        pk = [c[1] for c in sorted((c for c in columns if c[5]), key=lambda c: c[5])]
        rest = [c[1] for c in columns if not c[5]]
        order = ", ".join(quote_ident(c) for c in [*pk, *rest]) or "rowid"
        digest = hashlib.sha256()
        count = 0
        for row in db.query(f"SELECT * FROM {quote_ident(name)} ORDER BY {order}"):
            digest.update(repr(row).encode())
            digest.update(b"\n")
            count += 1
        snap.tables[name] = count
        snap.checksums[name] = digest.hexdigest()
    return snap


class ReadonlySqlite:
    """A backup file opened immutable: no locks, no -wal/-shm created beside it, never written."""

    def __init__(self, path: Path) -> None:
        self.label = f"sqlite backup {path.name}"
        uri = "file:" + str(path.resolve()).replace("?", "%3f").replace("#", "%23") + "?immutable=1"
        self.connection = sqlite3.connect(uri, uri=True, isolation_level=None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return [tuple(r) for r in self.connection.execute(sql, tuple(params)).fetchall()]
        except sqlite3.DatabaseError as exc:
            raise FaberError("DATABASE_ERROR", f"{self.label}: {exc}",
                             "Check that the backup file is a SQLite database.") from None

    def close(self) -> None:
        self.connection.close()


def backup(url: str, schema_dir: Path, tmp: Path, progress: Progress | None) -> TakenBackup:
    """Copy the live database into `tmp` with the online backup API, inside one read transaction
    that also takes the snapshot, then check the copy: integrity_check and an equal snapshot."""
    live = parse_sqlite_url(url, schema_dir).path
    if not live.is_file():
        raise FaberError("BACKUP_FAILED", f"The SQLite database {live.name} does not exist",
                         "Check the environment's URL; there is nothing to back up.")
    say(progress, f"backing up {live.name} (SQLite online backup)")
    try:
        with SqliteDatabase(live) as db:
            db.execute("BEGIN")  # one read transaction: the snapshot and the copy see the same state
            try:
                live_snap = snapshot(db)
                dest = sqlite3.connect(str(tmp))
                try:
                    db.connection.backup(dest)
                finally:
                    dest.close()
            finally:
                with contextlib.suppress(FaberError):
                    db.execute("COMMIT")
    except sqlite3.Error as exc:
        raise FaberError("BACKUP_FAILED", f"SQLite backup failed: {exc}",
                         "Check free space in the backup folder and that the database is not corrupt.") from None
    except FaberError as exc:
        if exc.code == "BACKUP_FAILED":
            raise
        raise FaberError("BACKUP_FAILED", f"SQLite backup failed: {exc.message}", exc.hint) from None
    say(progress, "verifying the copy (integrity_check, row counts, checksums)")
    copy = ReadonlySqlite(tmp)
    try:
        check = [r[0] for r in copy.query("PRAGMA integrity_check")]
        copy_snap = snapshot(copy)
    except FaberError as exc:
        raise FaberError("BACKUP_FAILED", f"The backup copy cannot be read: {exc.message}",
                         "Retry the backup; check the disk.") from None
    finally:
        copy.close()
    if check != ["ok"]:
        raise FaberError("BACKUP_FAILED", "The backup copy failed PRAGMA integrity_check",
                         "Run PRAGMA integrity_check on the live database; it may be damaged.",
                         details={"integrity_check": [redact(str(c)) for c in check[:20]]})
    differences = diff_snapshots(live_snap, copy_snap)
    if differences:
        raise FaberError("BACKUP_FAILED", "The backup copy does not match the live database",
                         "Retry the backup.", details={"differences": differences})
    tables = len(live_snap.tables)
    verification = (f"integrity_check ok; {tables} tables, row counts and content checksums equal "
                    "the live database at backup time")
    return TakenBackup(live_snap, {"sqlite": sqlite3.sqlite_version}, verification)


def swap_into_place(tmp: Path, live: Path) -> None:
    """The one step that changes the live database: an atomic rename (split out for tests)."""
    os.replace(tmp, live)


@contextlib.contextmanager
def live_write_lock(live: Path) -> Iterator[None]:
    """Hold the live database's write lock; WAL checkpointed and truncated, hot journal rolled back."""
    if not live.exists():
        yield
        return
    conn = sqlite3.connect(str(live), timeout=30, isolation_level=None)
    try:
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode == "wal":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # rolls back any hot journal
        yield
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def restore(source: Path, live: Path, expected: DataSnapshot, backup_id: str, progress: Progress | None
            ) -> DataSnapshot:
    """Copy the backup next to the live file, verify the copy, then swap it in atomically (see
    faber_db.backups for why each step is there). Returns the restored database's snapshot."""
    if not live.parent.is_dir():
        raise FaberError("RESTORE_FAILED", f"The folder of the SQLite database {live.name} does not exist",
                         "Check the environment's URL; nothing was changed.")
    for stale in live.parent.glob(f".{glob.escape(live.name)}{RESTORE_TMP_MARK}*.tmp"):
        with contextlib.suppress(OSError):  # left by a restore that was killed
            stale.unlink()
    tmp = live.with_name(f".{live.name}{RESTORE_TMP_MARK}{secrets.token_hex(4)}.tmp")
    try:
        say(progress, f"copying backup {backup_id} next to {live.name} (SQLite backup API)")
        src = ReadonlySqlite(source)
        try:
            dest = sqlite3.connect(str(tmp))
            try:
                src.connection.backup(dest)
            finally:
                dest.close()
        finally:
            src.close()
        if live.exists():
            st = live.stat()
            os.chmod(tmp, st.st_mode & 0o7777)
            if os.geteuid() == 0:
                with contextlib.suppress(OSError):
                    os.chown(tmp, st.st_uid, st.st_gid)
        say(progress, "verifying the restored copy before it replaces the database")
        copy = ReadonlySqlite(tmp)
        try:
            check = [r[0] for r in copy.query("PRAGMA integrity_check")]
            copy_snap = snapshot(copy)
        finally:
            copy.close()
        differences = diff_snapshots(expected, copy_snap)
        if check != ["ok"] or differences:
            raise FaberError("RESTORE_FAILED", f"The copy of backup {backup_id} does not verify",
                             "Nothing was changed; restore from another backup.",
                             details={"differences": differences, "integrity_check": check[:20]})
        fsync_file(tmp)
        say(progress, f"replacing {live.name}")
        with live_write_lock(live):
            swap_into_place(tmp, live)
            fsync_dir(live.parent)
        for side in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                live.with_name(live.name + side).unlink()
    except sqlite3.Error as exc:
        raise FaberError("RESTORE_FAILED", f"SQLite restore failed: {exc}",
                         "Nothing was changed; check free space next to the database.") from None
    except OSError as exc:
        raise FaberError("RESTORE_FAILED", f"SQLite restore failed: {exc.strerror or exc}",
                         "Nothing was changed; check free space and permissions next to the database.") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    with SqliteDatabase(live) as db:
        return snapshot(db)


class SqliteEngine:
    name = "sqlite"
    backup_suffix = ".sqlite"
    reads_disturb_writers = True
    sessions_outlive_clients = False
    named_schemas = False
    server_holds_databases = False
    alters_tables_in_place = False
    foreign_keys_off_on: tuple[str, str] | None = ("PRAGMA foreign_keys=off;", "PRAGMA foreign_keys=on;")

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

    @staticmethod
    def backup(*, url: str, schema_dir: Path, dest: Path, progress: Progress | None, compression: int,
               connection: object | None, schemas: Sequence[str] = ()) -> TakenBackup:
        return backup(url, schema_dir, dest, progress)

    @staticmethod
    def restore(*, archive: Path, url: str, schema_dir: Path, expected: DataSnapshot, schemas: Sequence[str],
                backup_id: str, progress: Progress | None) -> DataSnapshot:
        return restore(archive, parse_sqlite_url(url, schema_dir).path, expected, backup_id, progress)
