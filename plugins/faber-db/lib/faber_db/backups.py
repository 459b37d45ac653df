"""Verified backups and verified restores, with the databases' own tools.

SQLite: the online backup API (`sqlite3.Connection.backup`). PostgreSQL: `pg_dump -Fc` and
`pg_restore`, piped into `psql --single-transaction`.

Layout: `<backup dir>/<environment>/<id>.json` (the manifest) beside `<id>.sqlite` or `<id>.dump`.
Ids sort by time: `20261124T180102Z-3f9a`. Manifests and backup files never hold a connection URL
or a password: the manifest is built from named fields only, and `pg_dump` gets its password
through the child's environment (`PGPASSWORD`), never its argument list.

Verification before `create_backup` returns:
- SQLite: the backup is copied from inside one read transaction on the live database; the live
  snapshot (row counts, content checksums, schema hash) is taken inside that same transaction, so
  it describes exactly the copied state. The copy must pass `PRAGMA integrity_check` and its own
  snapshot must equal the live one.
- PostgreSQL: one connection opens a REPEATABLE READ transaction and exports its snapshot; `pg_dump
  --snapshot=<id>` dumps exactly that state while the same transaction computes the data snapshot in
  parallel (server side, one aggregate query per table), so the checksum costs almost no wall time.
  Then `pg_restore --list` must read the archive and list one TABLE DATA entry per live table.

Content checksums. SQLite: sha256 over the rows in primary-key order (then all columns), computed
in-process. PostgreSQL: the row count plus the sum of `hashtextextended(row::text, 0)` over the
table: an order-independent 64-bit multiset hash, computed by the server with no sort and no
large string (md5 over a string_agg is ~4x slower and capped at 1 GB of text). It is the same
function hash partitioning relies on, so it is stable across server upgrades. Session settings
that change a row's text form (TimeZone, DateStyle, extra_float_digits, ...) are pinned first.

Scope on PostgreSQL: the schema of the URL's `schema` parameter (default `public`), as Prisma
manages it: `pg_dump -n <schema>`. Other schemas of the database are neither saved nor touched.
Extensions are not part of a schema dump; they stay installed across a restore.

Restore on PostgreSQL: plain `pg_restore --clean` drops only the objects that are in the archive, so
a table created after the backup (say by the half-applied migration being undone, with a foreign key
to an old table) would make the drop fail or survive the restore. faber-db therefore runs, in ONE
transaction (`psql --single-transaction -v ON_ERROR_STOP=1`): a preamble that refuses when objects
outside the schema depend on it, then drops every object in the schema (not the schema itself,
not extension members), then the archive as SQL (`pg_restore --clean --if-exists --no-owner -f -`).
Any error rolls the whole transaction back: the database is either fully old or fully restored.

Restore on SQLite: the backup is copied through the backup API into a temp file next to the live
database, verified there, fsynced, and moved over the live file with `os.replace` while holding the
live database's write lock (WAL checkpointed and truncated first, a hot journal rolled back by the
open), then the stale -wal/-shm are removed. A process killed at any point leaves the old file or
the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from faber_db import __version__
from faber_db.engines import (
    Database,
    PostgresDatabase,
    PostgresTarget,
    SqliteDatabase,
    parse_postgres_url,
    parse_sqlite_url,
)
from faber_db.errors import FaberError
from faber_db.files import fsync_dir, fsync_file, write_json_atomic
from faber_db.redact import redact, register_secret

Progress = Callable[[str], None]

PRISMA_MIGRATIONS_TABLE = "_prisma_migrations"
SUPPORTED_BACKUP_PROVIDERS = ("local",)
PG_DUMP_TIMEOUT = 6 * 3600
PG_RESTORE_TIMEOUT = 6 * 3600
PG_TOOL_TIMEOUT = 120
_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4,}$")
_MANIFEST_VERSION = 1
_PG_CHECKSUM = "pg-rowhash-sum-v1"
_SQLITE_CHECKSUM = "sqlite-sha256-v1"
_RESTORE_TMP_MARK = ".faber-restore-"


# --- snapshots ----------------------------------------------------------------------------------


@dataclass
class DataSnapshot:
    """What a database held at one moment: per-table row counts and content checksums, and a hash
    of its catalog. `_prisma_migrations` is included like any table (under its own name); use
    `data_tables` / `migrations_table` to tell the migration history from user data."""

    tables: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    schema_hash: str = ""

    @property
    def data_tables(self) -> dict[str, int]:
        return {name: n for name, n in self.tables.items() if name != PRISMA_MIGRATIONS_TABLE}

    @property
    def migrations_table(self) -> tuple[int, str] | None:
        """(row count, checksum) of `_prisma_migrations`, or None when the table is absent."""
        if PRISMA_MIGRATIONS_TABLE not in self.tables:
            return None
        return self.tables[PRISMA_MIGRATIONS_TABLE], self.checksums.get(PRISMA_MIGRATIONS_TABLE, "")

    def to_dict(self) -> dict[str, Any]:
        return {"tables": dict(self.tables), "checksums": dict(self.checksums), "schema_hash": self.schema_hash}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataSnapshot:
        return cls(
            tables={str(k): int(v) for k, v in dict(data.get("tables") or {}).items()},
            checksums={str(k): str(v) for k, v in dict(data.get("checksums") or {}).items()},
            schema_hash=str(data.get("schema_hash") or ""),
        )


def _label(table: str) -> str:
    return f"{table} (migration history)" if table == PRISMA_MIGRATIONS_TABLE else table


def diff_snapshots(a: DataSnapshot, b: DataSnapshot) -> list[str]:
    """Human-readable differences from `a` (expected) to `b` (actual); empty when equal."""
    out: list[str] = []
    for name in sorted(set(a.tables) - set(b.tables)):
        out.append(f"table {_label(name)} is missing ({a.tables[name]} rows expected)")
    for name in sorted(set(b.tables) - set(a.tables)):
        out.append(f"table {_label(name)} is unexpected ({b.tables[name]} rows)")
    for name in sorted(set(a.tables) & set(b.tables)):
        if a.tables[name] != b.tables[name]:
            out.append(f"table {_label(name)}: {b.tables[name]} rows, expected {a.tables[name]}")
        elif a.checksums.get(name) != b.checksums.get(name):
            out.append(f"table {_label(name)}: same row count ({a.tables[name]}) but different content")
    if a.schema_hash != b.schema_hash:
        out.append("schema differs (tables, columns, types, indexes or constraints)")
    return out


def take_snapshot(db: Database) -> DataSnapshot:
    """Row counts, content checksums and a schema hash of `db` (see the module docstring)."""
    if db.provider == "sqlite":
        return _sqlite_snapshot(db)
    if db.provider == "postgresql":
        schema = db.target.schema if isinstance(db, PostgresDatabase) else "public"
        _pg_pin_session(db)
        return _pg_snapshot(db, schema)
    raise FaberError("PROVIDER_UNSUPPORTED", f"Provider {db.provider!r} is not supported yet",
                         "faber-db backs up sqlite and postgresql.")


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Queryable(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def _sqlite_snapshot(db: _Queryable) -> DataSnapshot:
    master = db.query(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    )
    schema = hashlib.sha256(repr([tuple(r) for r in master]).encode()).hexdigest()
    snap = DataSnapshot(schema_hash=f"{_SQLITE_CHECKSUM}:{schema}")
    for (name,) in db.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        columns = db.query(f"PRAGMA table_info({_qi(name)})")
        pk = [c[1] for c in sorted((c for c in columns if c[5]), key=lambda c: c[5])]
        rest = [c[1] for c in columns if not c[5]]
        order = ", ".join(_qi(c) for c in [*pk, *rest]) or "rowid"
        digest = hashlib.sha256()
        count = 0
        for row in db.query(f"SELECT * FROM {_qi(name)} ORDER BY {order}"):
            digest.update(repr(row).encode())
            digest.update(b"\n")
            count += 1
        snap.tables[name] = count
        snap.checksums[name] = digest.hexdigest()
    return snap


def _pg_pin_session(db: Database) -> None:
    # A row's text form depends on these; pin them so checksums compare across sessions.
    for setting in (
        "SET TimeZone = 'UTC'",
        "SET DateStyle = 'ISO, MDY'",
        "SET IntervalStyle = 'postgres'",
        "SET extra_float_digits = 1",
        "SET bytea_output = 'hex'",
    ):
        db.execute(setting)


def _pg_tables(db: Database, schema: str) -> list[str]:
    rows = db.query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ? AND c.relkind = 'r' ORDER BY c.relname",
        (schema,),
    )
    return [str(r[0]) for r in rows]


_PG_SCHEMA_QUERIES = (
    # columns (dropped columns and attnum gaps do not matter; order does)
    "SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "coalesce(pg_get_expr(d.adbin, d.adrelid), '') FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
    "WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname, a.attnum",
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ? ORDER BY indexname",
    "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
    "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = ? ORDER BY c.relname, k.conname",
    "SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_type t "
    "JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid "
    "WHERE n.nspname = ? GROUP BY t.typname ORDER BY t.typname",
    "SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n "
    "ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind IN ('v', 'm') ORDER BY c.relname",
)


def _pg_schema_hash(db: Database, schema: str) -> str:
    digest = hashlib.sha256()
    for sql in _PG_SCHEMA_QUERIES:
        digest.update(repr([tuple(str(v) for v in r) for r in db.query(sql, (schema,))]).encode())
        digest.update(b"\0")
    return f"{_PG_CHECKSUM}:{digest.hexdigest()}"


def _pg_snapshot(db: Database, schema: str) -> DataSnapshot:
    snap = DataSnapshot(schema_hash=_pg_schema_hash(db, schema))
    names = _pg_tables(db, schema)
    # one round trip per 100 tables, not one per table (a 50-table schema: 1 query instead of 50)
    for start in range(0, len(names), 100):
        chunk = names[start:start + 100]
        sql = " UNION ALL ".join(
            f"SELECT {i}, count(*), coalesce(sum(hashtextextended((faber_row.*)::text, 0)), 0) "
            f"FROM ONLY {_qi(schema)}.{_qi(name)} AS faber_row" for i, name in enumerate(chunk))
        for index, count, total in db.query(sql):
            name = chunk[int(index)]
            snap.tables[name] = int(count)
            snap.checksums[name] = f"{int(count)}:{int(total)}"
    return snap


# --- manifests ----------------------------------------------------------------------------------


@dataclass
class BackupManifest:
    id: str
    environment: str
    provider: str
    created_at: str
    file: str
    size_bytes: int
    sha256: str
    label: str | None
    migrations: list[str]
    snapshot: DataSnapshot
    tool_versions: dict[str, str]
    verified: bool
    verification: str
    # PostgreSQL: the schema the backup covers (pg_dump -n); None on SQLite
    pg_schema: str | None = None
    manifest_version: int = _MANIFEST_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["snapshot"] = self.snapshot.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackupManifest:
        return cls(
            id=str(data["id"]),
            environment=str(data["environment"]),
            provider=str(data["provider"]),
            created_at=str(data["created_at"]),
            file=str(data["file"]),
            size_bytes=int(data["size_bytes"]),
            sha256=str(data["sha256"]),
            label=None if data.get("label") is None else str(data["label"]),
            migrations=[str(m) for m in data.get("migrations") or []],
            snapshot=DataSnapshot.from_dict(dict(data.get("snapshot") or {})),
            tool_versions={str(k): str(v) for k, v in dict(data.get("tool_versions") or {}).items()},
            verified=bool(data.get("verified")),
            verification=str(data.get("verification") or ""),
            pg_schema=None if data.get("pg_schema") is None else str(data["pg_schema"]),
            manifest_version=int(data.get("manifest_version") or _MANIFEST_VERSION),
        )


def _env_dir(backup_dir: Path, environment: str) -> Path:
    if not environment or "/" in environment or "\\" in environment or environment in (".", ".."):
        raise FaberError("INVALID_ARGUMENT", f"Unusable environment name {environment!r} for a backup folder",
                         "Use an environment name from the config.")
    return backup_dir / environment


def _new_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def list_backups(backup_dir: Path, environment: str) -> list[BackupManifest]:
    """Every readable faber-db manifest of the environment, newest first."""
    folder = _env_dir(backup_dir, environment)
    if not folder.is_dir():
        return []
    found: list[BackupManifest] = []
    for path in folder.glob("*.json"):
        if not _ID_RE.match(path.stem):
            continue
        try:
            manifest = BackupManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or damaged: never listed, never pruned
        if manifest.id == path.stem and manifest.environment == environment:
            found.append(manifest)
    found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return found


def load_manifest(backup_dir: Path, environment: str, backup_id: str) -> BackupManifest:
    hint = f"List the backups with `faber-db backups {environment}`."
    if not _ID_RE.match(backup_id):
        raise FaberError("BACKUP_NOT_FOUND", f"No backup {backup_id!r} for {environment}", hint)
    path = _env_dir(backup_dir, environment) / f"{backup_id}.json"
    try:
        manifest = BackupManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FaberError("BACKUP_NOT_FOUND", f"No backup {backup_id!r} for {environment}", hint) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FaberError("BACKUP_CORRUPT", f"The manifest of backup {backup_id} cannot be read: {exc}",
                         "Restore from another backup.") from None
    if manifest.id != backup_id or manifest.environment != environment:
        raise FaberError("BACKUP_CORRUPT", f"The manifest of backup {backup_id} names another backup",
                         "Restore from another backup.")
    return manifest


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _backup_file(manifest: BackupManifest, backup_dir: Path) -> Path:
    name = Path(manifest.file).name
    if name != manifest.file or not name.startswith(manifest.id):
        raise FaberError("BACKUP_CORRUPT", f"The manifest of backup {manifest.id} names an unexpected file",
                         "Restore from another backup.")
    return _env_dir(backup_dir, manifest.environment) / name


def check_integrity(manifest: BackupManifest, backup_dir: Path) -> None:
    """The backup file exists and its size and sha256 equal the manifest's; else BACKUP_CORRUPT."""
    path = _backup_file(manifest, backup_dir)
    hint = "The file changed after it was written; restore from another backup (`faber-db backups`)."
    try:
        size = path.stat().st_size
        actual = _sha256_file(path)
    except FileNotFoundError:
        raise FaberError("BACKUP_CORRUPT", f"The file of backup {manifest.id} is missing", hint) from None
    except OSError as exc:
        raise FaberError("BACKUP_CORRUPT", f"The file of backup {manifest.id} cannot be read: "
                         f"{exc.strerror}", hint) from None
    if size != manifest.size_bytes or actual != manifest.sha256:
        raise FaberError(
            "BACKUP_CORRUPT",
            f"Backup {manifest.id} does not match its manifest checksum",
            hint,
            details={"backup_id": manifest.id, "expected_sha256": manifest.sha256, "actual_sha256": actual,
                     "expected_size": manifest.size_bytes, "actual_size": size},
        )


# --- creating -----------------------------------------------------------------------------------


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def create_backup(
    *,
    provider: str,
    url: str,
    schema_dir: Path,
    backup_dir: Path,
    environment: str,
    migrations: list[str],
    label: str | None = None,
    provider_name: str = "local",
    progress: Progress | None = None,
    compression: int = 1,
    connection: Database | None = None,
) -> BackupManifest:
    """Take a backup, verify it, write its manifest; BACKUP_FAILED (nothing left behind) otherwise.

    `compression`: pg_dump's gzip level (0-9). The default 1 dumps about twice as fast as pg_dump's
    own default for files a few percent larger: a pre-deploy backup is on the critical path."""
    if not 0 <= compression <= 9:
        raise FaberError("CONFIG_INVALID", f"backup.compression: {compression} is not a gzip level",
                         "Use 0 (none) to 9 (smallest); 1 is the fast default.")
    if provider_name not in SUPPORTED_BACKUP_PROVIDERS:
        raise FaberError(
            "PROVIDER_UNSUPPORTED",
            f"Backup provider {provider_name!r} is not supported yet",
            "Set [backup] provider = \"local\" in the faber-db config (cloud snapshots such as "
            "aws-rds-snapshot or gcp-sql-snapshot are not supported yet); no backup was taken.",
        )
    if provider not in ("sqlite", "postgresql"):
        raise FaberError("PROVIDER_UNSUPPORTED", f"Provider {provider!r} is not supported yet",
                         "faber-db supports sqlite and postgresql.")
    folder = _env_dir(backup_dir, environment)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    backup_id = _new_id(now)
    suffix = ".sqlite" if provider == "sqlite" else ".dump"
    final = folder / f"{backup_id}{suffix}"
    manifest_path = folder / f"{backup_id}.json"
    tmp = folder / f".{backup_id}{suffix}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".{backup_id}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise FaberError(
            "BACKUP_FAILED",
            f"The backup folder cannot be written: {exc.strerror or exc}",
            f"Check that {folder} exists and is writable, or set [backup] directory in the config.",
        ) from None
    try:
        if provider == "sqlite":
            snapshot, tools, verification = _sqlite_backup(url, schema_dir, tmp, progress)
            pg_schema = None
        else:
            target = parse_postgres_url(url)
            snapshot, tools, verification = _pg_backup(target, tmp, progress, compression, connection)
            pg_schema = target.schema
        fsync_file(tmp)
        os.replace(tmp, final)
        fsync_dir(folder)
        size = final.stat().st_size
        _say(progress, "checksumming the backup file")
        digest = _sha256_file(final)
        manifest = BackupManifest(
            id=backup_id,
            environment=environment,
            provider=provider,
            created_at=now.isoformat().replace("+00:00", "Z"),
            file=final.name,
            size_bytes=size,
            sha256=digest,
            label=label,
            migrations=list(migrations),
            snapshot=snapshot,
            tool_versions={**tools, "faber-db": __version__},
            verified=True,
            verification=verification,
            pg_schema=pg_schema,
        )
        write_json_atomic(manifest_path, manifest.to_dict())
        _say(progress, f"backup {backup_id} verified ({size} bytes)")
        return manifest
    except BaseException as exc:
        for leftover in (tmp, final, manifest_path):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if isinstance(exc, FaberError):
            raise
        if isinstance(exc, OSError):
            raise FaberError(
                "BACKUP_FAILED",
                f"The backup could not be written: {redact(exc.strerror or str(exc))}",
                "Check free space and permissions of the backup folder; nothing was left behind.",
            ) from None
        raise


class _ReadonlySqlite:
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


def _sqlite_open_readonly(path: Path) -> _ReadonlySqlite:
    return _ReadonlySqlite(path)


def _sqlite_backup(url: str, schema_dir: Path, tmp: Path, progress: Progress | None
                   ) -> tuple[DataSnapshot, dict[str, str], str]:
    live = parse_sqlite_url(url, schema_dir).path
    if not live.is_file():
        raise FaberError("BACKUP_FAILED", f"The SQLite database {live.name} does not exist",
                         "Check the environment's URL; there is nothing to back up.")
    _say(progress, f"backing up {live.name} (SQLite online backup)")
    try:
        with SqliteDatabase(live) as db:
            db.execute("BEGIN")  # one read transaction: the snapshot and the copy see the same state
            try:
                live_snap = _sqlite_snapshot(db)
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
    _say(progress, "verifying the copy (integrity_check, row counts, checksums)")
    copy = _sqlite_open_readonly(tmp)
    try:
        check = [r[0] for r in copy.query("PRAGMA integrity_check")]
        copy_snap = _sqlite_snapshot(copy)
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
    return live_snap, {"sqlite": sqlite3.sqlite_version}, verification


# --- PostgreSQL tools ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _PgTools:
    bin_dir: Path
    major: int
    version: str

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def _tool_version(path: str) -> tuple[int, str] | None:
    try:
        proc = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", proc.stdout)
    if proc.returncode != 0 or not match:
        return None
    return int(match.group(1)), match.group(0)


def _find_pg_tools(server_major: int, needed: tuple[str, ...]) -> _PgTools:
    """The client tools whose major version is the smallest one >= the server's (closest match:
    a newer pg_dump reads an older server, and its output suits the server it came from)."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += [Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))]
    candidates += [Path(p).parent for p in sorted(glob.glob("/usr/local/opt/postgresql@*/bin/pg_dump"))]
    found: list[_PgTools] = []
    seen: set[Path] = set()
    for bin_dir in candidates:
        if bin_dir in seen or not all((bin_dir / n).is_file() for n in needed):
            continue
        seen.add(bin_dir)
        version = _tool_version(str(bin_dir / "pg_dump"))
        if version:
            found.append(_PgTools(bin_dir, version[0], version[1]))
    usable = sorted((t for t in found if t.major >= server_major), key=lambda t: t.major)
    if usable:
        return usable[0]
    have = ", ".join(sorted({t.version for t in found})) or "none"
    raise FaberError(
        "BACKUP_FAILED",
        f"No PostgreSQL client tools ({', '.join(needed)}) of version {server_major} or newer (found: {have})",
        f"Install the PostgreSQL {server_major} client tools (e.g. apt-get install postgresql-client-"
        f"{server_major}) so that {needed[0]} is on PATH.",
    )


def _pg_env(target: PostgresTarget) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for keep in ("PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSSLCRL", "PGPASSFILE"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    env.update({
        "PGHOST": target.host,
        "PGPORT": str(target.port),
        "PGUSER": target.user,
        "PGDATABASE": target.database,
        "PGCONNECT_TIMEOUT": str(max(1, int(target.connect_timeout))),
        "PGAPPNAME": "faber-db",
    })
    if target.password is not None:
        env["PGPASSWORD"] = target.password
        register_secret(target.password)
    if target.sslmode:
        env["PGSSLMODE"] = target.sslmode
    return env


def _stderr_tail(text: str, limit: int = 2000) -> str:
    return redact(text.strip())[-limit:]


def _server_major(db: Database) -> int:
    return int(db.query("SHOW server_version_num")[0][0]) // 10000


def _pg_backup(target: PostgresTarget, tmp: Path, progress: Progress | None, compression: int = 1,
               connection: Database | None = None) -> tuple[DataSnapshot, dict[str, str], str]:
    if connection is not None:
        db: Database = connection
        owned: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    else:
        try:
            db = PostgresDatabase(target)
        except FaberError as exc:
            raise FaberError("BACKUP_FAILED", f"Cannot connect for the backup: {exc.message}", exc.hint) from None
        owned = db
    with owned:
        major = _server_major(db)
        server_version = db.server_version()
        tools = _find_pg_tools(major, ("pg_dump", "pg_restore"))
        # One REPEATABLE READ transaction exports its snapshot: pg_dump dumps exactly the state the
        # checksums below are computed on, and both run at the same time.
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _pg_pin_session(db)
        snapshot_id = str(db.query("SELECT pg_export_snapshot()")[0][0])
        argv = [tools.tool("pg_dump"), "--format=custom", f"--compress={compression}", f"--snapshot={snapshot_id}",
                f"--schema={_pg_pattern(target.schema)}", f"--file={tmp}", "--no-password"]
        _say(progress, f"pg_dump -Fc of {target.database} (schema {target.schema}) with {tools.version}")
        with _Child(argv, _pg_env(target), timeout=PG_DUMP_TIMEOUT) as dump:
            try:
                live_snap = _pg_snapshot(db, target.schema)
            except FaberError as exc:
                dump.kill()
                raise FaberError("BACKUP_FAILED", f"Could not checksum the live data: {exc.message}",
                                 exc.hint) from None
            code, stderr = dump.wait()
        with contextlib.suppress(FaberError):
            db.execute("COMMIT")
    if code != 0:
        raise FaberError("BACKUP_FAILED", f"pg_dump failed (exit {code})",
                         "Read pg_dump's message in details; check free space and the role's privileges.",
                         details={"stderr": _stderr_tail(stderr)})
    _say(progress, "verifying the dump (pg_restore --list)")
    listing = _run([tools.tool("pg_restore"), "--list", str(tmp)], _pg_env(target), PG_TOOL_TIMEOUT)
    if listing.returncode != 0:
        raise FaberError("BACKUP_FAILED", "pg_restore cannot read the dump just written",
                         "Retry the backup; check the disk.", details={"stderr": _stderr_tail(listing.stderr)})
    data_entries = _count_table_data(listing.stdout)
    if data_entries != len(live_snap.tables):
        raise FaberError(
            "BACKUP_FAILED",
            f"The dump holds data for {data_entries} tables, the database has {len(live_snap.tables)}",
            "Retry the backup; if it persists, check for tables pg_dump skips (e.g. by permissions).",
            details={"dump_table_data_entries": data_entries, "live_tables": sorted(live_snap.tables)},
        )
    verification = (f"pg_restore --list ok; {data_entries} TABLE DATA entries = {len(live_snap.tables)} live "
                    "tables; checksums taken from the dump's own snapshot")
    return live_snap, {"pg_dump": tools.version, "server": server_version}, verification


def _pg_pattern(schema: str) -> str:
    # pg_dump -n takes a pattern: quote it so the name is taken literally.
    return '"' + schema.replace('"', '""') + '"'


def _count_table_data(listing: str) -> int:
    count = 0
    for line in listing.splitlines():
        if line.startswith(";") or not line.strip():
            continue
        # "3359; 0 16388 TABLE DATA public User faber"
        parts = line.split(None, 6)
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] == "DATA":
            count += 1
    return count


def _run(argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise FaberError("BACKUP_FAILED", f"{Path(argv[0]).name} did not finish within {int(timeout)} s",
                         "Retry; check the server's load.") from None
    except OSError as exc:
        raise FaberError("BACKUP_FAILED", f"Cannot run {Path(argv[0]).name}: {exc.strerror}",
                         "Install the PostgreSQL client tools.") from None


class _Child:
    """A subprocess run in the background (stdin closed, stderr collected, stdout discarded)."""

    def __init__(self, argv: list[str], env: dict[str, str], *, timeout: float) -> None:
        self.argv = argv
        self.env = env
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: list[bytes] = []
        self._reader: threading.Thread | None = None

    def __enter__(self) -> _Child:
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, env=self.env)
        except OSError as exc:
            raise FaberError("BACKUP_FAILED", f"Cannot run {Path(self.argv[0]).name}: {exc.strerror}",
                             "Install the PostgreSQL client tools.") from None
        proc = self.proc

        def read() -> None:
            assert proc.stderr is not None
            self._stderr.append(proc.stderr.read())

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        self._started = time.monotonic()
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def wait(self) -> tuple[int, str]:
        assert self.proc is not None
        remaining = max(1.0, self.timeout - (time.monotonic() - self._started))
        try:
            code = self.proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            raise FaberError("BACKUP_FAILED", f"{Path(self.argv[0]).name} did not finish within "
                             f"{int(self.timeout)} s", "Retry; check the server's load.") from None
        if self._reader is not None:
            self._reader.join(timeout=10)
        return code, b"".join(self._stderr).decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)


# --- restoring ----------------------------------------------------------------------------------


def restore_backup(
    manifest: BackupManifest,
    *,
    url: str,
    schema_dir: Path,
    backup_dir: Path,
    progress: Progress | None = None,
) -> DataSnapshot:
    """Restore `manifest`'s backup over the database of `url`, then verify the data equals the
    manifest's snapshot (RESTORE_FAILED with the differences otherwise). Returns the new snapshot."""
    check_integrity(manifest, backup_dir)
    path = _backup_file(manifest, backup_dir)
    if manifest.provider == "sqlite":
        snap = _sqlite_restore(path, parse_sqlite_url(url, schema_dir).path, manifest, progress)
    elif manifest.provider == "postgresql":
        target = parse_postgres_url(url)
        if manifest.pg_schema is not None and manifest.pg_schema != target.schema:
            raise FaberError(
                "RESTORE_FAILED",
                f"Backup {manifest.id} holds schema {manifest.pg_schema!r}, the URL names {target.schema!r}",
                "Restore into a database URL with the same schema parameter; nothing was changed.",
            )
        snap = _pg_restore(path, target, progress)
    else:
        raise FaberError("PROVIDER_UNSUPPORTED", f"Provider {manifest.provider!r} is not supported yet",
                         "faber-db restores sqlite and postgresql backups.")
    differences = diff_snapshots(manifest.snapshot, snap)
    if differences:
        raise FaberError(
            "RESTORE_FAILED",
            f"The restored database does not match backup {manifest.id}",
            "Restore again from this or another backup; investigate before deploying.",
            details={"differences": differences, "backup_id": manifest.id},
        )
    _say(progress, f"restored backup {manifest.id}; rows and checksums match")
    return snap


def _swap_into_place(tmp: Path, live: Path) -> None:
    """The one step that changes the live database: an atomic rename (split out for tests)."""
    os.replace(tmp, live)


@contextlib.contextmanager
def _live_write_lock(live: Path) -> Iterator[None]:
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


def _sqlite_restore(source: Path, live: Path, manifest: BackupManifest, progress: Progress | None
                    ) -> DataSnapshot:
    if not live.parent.is_dir():
        raise FaberError("RESTORE_FAILED", f"The folder of the SQLite database {live.name} does not exist",
                         "Check the environment's URL; nothing was changed.")
    for stale in live.parent.glob(f".{glob.escape(live.name)}{_RESTORE_TMP_MARK}*.tmp"):
        with contextlib.suppress(OSError):  # left by a restore that was killed
            stale.unlink()
    tmp = live.with_name(f".{live.name}{_RESTORE_TMP_MARK}{secrets.token_hex(4)}.tmp")
    try:
        _say(progress, f"copying backup {manifest.id} next to {live.name} (SQLite backup API)")
        src = _sqlite_open_readonly(source)
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
        _say(progress, "verifying the restored copy before it replaces the database")
        copy = _sqlite_open_readonly(tmp)
        try:
            check = [r[0] for r in copy.query("PRAGMA integrity_check")]
            copy_snap = _sqlite_snapshot(copy)
        finally:
            copy.close()
        differences = diff_snapshots(manifest.snapshot, copy_snap)
        if check != ["ok"] or differences:
            raise FaberError("RESTORE_FAILED", f"The copy of backup {manifest.id} does not verify",
                             "Nothing was changed; restore from another backup.",
                             details={"differences": differences, "integrity_check": check[:20]})
        fsync_file(tmp)
        _say(progress, f"replacing {live.name}")
        with _live_write_lock(live):
            _swap_into_place(tmp, live)
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
        return _sqlite_snapshot(db)


_PG_PREAMBLE = """
SET standard_conforming_strings = on;
SELECT set_config('faber.restore_schema', {schema}, true);
DO $faber$
DECLARE
  s oid := (SELECT oid FROM pg_namespace WHERE nspname = current_setting('faber.restore_schema'));
  dependents text;
  stmt text;
  stmts text[] := '{{}}';
BEGIN
  IF s IS NULL THEN
    RETURN;
  END IF;
  -- refuse (nothing changed) when objects outside the schema depend on it: CASCADE would drop them
  SELECT string_agg(DISTINCT d, ', ') INTO dependents FROM (
    SELECT v.oid::regclass::text AS d FROM pg_depend dep
      JOIN pg_rewrite r ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
      JOIN pg_class v ON v.oid = r.ev_class
      JOIN pg_class t ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = t.oid
     WHERE t.relnamespace = s AND v.relnamespace <> s
    UNION
    SELECT k.conrelid::regclass::text FROM pg_constraint k
      JOIN pg_class t ON t.oid = k.confrelid JOIN pg_class c ON c.oid = k.conrelid
     WHERE k.contype = 'f' AND t.relnamespace = s AND c.relnamespace <> s) x;
  IF dependents IS NOT NULL THEN
    RAISE EXCEPTION 'faber-db: objects outside the schema depend on it: %', dependents;
  END IF;
  -- every object of the schema that no extension owns
  SELECT coalesce(array_agg(q), '{{}}') INTO stmts FROM (
    SELECT format('DROP %s IF EXISTS %s CASCADE',
             CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
               WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
             format('%I.%I', n.nspname, c.relname)) AS q, 1 AS o
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relnamespace = s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                        AND e.objid = c.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE'
             ELSE 'ROUTINE' END, p.oid::regprocedure::text), 2
      FROM pg_proc p WHERE p.pronamespace = s
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                        AND e.objid = p.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('DROP TYPE IF EXISTS %s CASCADE', format('%I.%I', n.nspname, t.typname)), 3
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typnamespace = s AND t.typtype IN ('e', 'd', 'r', 'c')
       AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass
                        AND e.objid = t.oid AND e.deptype = 'e')
    ORDER BY o) y;
  FOREACH stmt IN ARRAY stmts LOOP
    EXECUTE stmt;
  END LOOP;
END
$faber$;
"""


def _pg_restore(path: Path, target: PostgresTarget, progress: Progress | None) -> DataSnapshot:
    try:
        db = PostgresDatabase(target)
    except FaberError as exc:
        raise FaberError("RESTORE_FAILED", f"Cannot connect for the restore: {exc.message}", exc.hint) from None
    with db:
        tools = _find_pg_tools(_server_major(db), ("pg_restore", "psql"))
    env = _pg_env(target)
    preamble = _PG_PREAMBLE.format(schema=_ql(target.schema))
    restore_argv = [tools.tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--file=-", str(path)]
    psql_argv = [tools.tool("psql"), "--no-psqlrc", "--quiet", "--no-password", "--single-transaction",
                 "--set=ON_ERROR_STOP=1", f"--command={preamble}", "--file=-"]
    _say(progress, f"restoring {path.name} into {target.database} (schema {target.schema}) in one transaction")
    try:
        producer = subprocess.Popen(restore_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        raise FaberError("RESTORE_FAILED", f"Cannot run pg_restore: {exc.strerror}",
                         "Install the PostgreSQL client tools; nothing was changed.") from None
    try:
        consumer = subprocess.Popen(psql_argv, stdin=producer.stdout, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        producer.kill()
        producer.wait()
        raise FaberError("RESTORE_FAILED", f"Cannot run psql: {exc.strerror}",
                         "Install the PostgreSQL client tools; nothing was changed.") from None
    assert producer.stdout is not None
    producer.stdout.close()  # psql owns the pipe now; pg_restore gets SIGPIPE if psql stops
    try:
        _, psql_err = consumer.communicate(timeout=PG_RESTORE_TIMEOUT)
        _, restore_err = producer.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        for proc in (consumer, producer):
            proc.kill()
            proc.wait()
        raise FaberError("RESTORE_FAILED", f"The restore did not finish within {PG_RESTORE_TIMEOUT} s",
                         "The transaction was rolled back; nothing was changed.") from None
    if consumer.returncode != 0 or producer.returncode != 0:
        raise FaberError(
            "RESTORE_FAILED",
            f"The restore failed (psql exit {consumer.returncode}, pg_restore exit {producer.returncode}); "
            "the transaction was rolled back",
            "Nothing was changed. Read the messages in details.",
            details={"stderr": _stderr_tail(psql_err.decode("utf-8", "replace")
                                            + restore_err.decode("utf-8", "replace"))},
        )
    _say(progress, "verifying the restored data")
    with PostgresDatabase(target) as db:
        return take_snapshot(db)


# --- retention ----------------------------------------------------------------------------------


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
    folder = _env_dir(backup_dir, environment)
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
            _backup_file(manifest, backup_dir).unlink()
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{manifest.id}.json").unlink()
        pruned.append(manifest.id)
    return pruned
