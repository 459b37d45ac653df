"""The `sql` handler: a folder of plain SQL migration files (dbmate / golang-migrate style), applied
with the database's own driver through `faber_db.engines` (no subprocess, no other tool).

Files: `<migrations_dir>/<version>_<name>.sql`, version = digits (e.g. a 14-digit UTC timestamp),
applied in version order. Everything after a line `-- migrate:down` is the down script; everything
before it (after a `-- migrate:up` line, when there is one) is the up script. A sibling
`<version>_<name>.down.sql` may hold the down script instead. The checksum is the sha256 of the up
script's bytes.

History: the table `faber_db_migrations` (created when missing), one row per apply. A migration and
its row are written in one transaction, so a failed migration leaves nothing behind (PostgreSQL and
SQLite both run DDL inside a transaction); a rollback marks the row rolled back.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.files import read_project_file, write_atomic
from faber_db.handlers.base import AppliedMigration, LocalMigration, SchemaDiff, ToolOutcome, output_tail
from faber_db.handlers.sql_facts import FACTS
from faber_db.redact import redact

if TYPE_CHECKING:
    from faber_db.config import LoadedConfig
    from faber_db.engines import Database
    from faber_db.results import Finding

HISTORY_TABLE = FACTS.history_table
FILE_NAME = re.compile(r"^(?P<version>\d+)_(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)(?P<down>\.down)?\.sql$")
UP_MARKER = b"-- migrate:up"
DOWN_MARKER = b"-- migrate:down"
NAMING_HINT = ("Name each migration <version>_<name>.sql (version: digits, e.g. 20260101120000_add_users.sql; "
               "a separate down script: <version>_<name>.down.sql), or move other .sql files out of the folder.")

CREATE_HISTORY = (f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (version TEXT NOT NULL, name TEXT NOT NULL, "
                  "checksum TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, rolled_back_at TEXT)")
RECORD = (f"INSERT INTO {HISTORY_TABLE} (version, name, checksum, started_at, finished_at) "
          "VALUES (?, ?, ?, ?, ?)")

# where `faber-db init` looks for a plain SQL migrations folder (when there is no other tool's project)
FOLDERS = ("migrations", "db/migrations", "database/migrations", "sql/migrations")


def detect_folder(root: Path) -> Path | None:
    """The first of FOLDERS holding at least one `<version>_<name>.sql` file."""
    for folder in FOLDERS:
        path = root / folder
        if path.is_dir() and any(FILE_NAME.match(p.name) and not p.name.endswith(".down.sql")
                                 for p in path.iterdir() if p.is_file()):
            return path
    return None


def split_sections(data: bytes, label: str) -> tuple[bytes, bytes | None]:
    """(up, down) of a migration file; down is None when the file has no `-- migrate:down` line."""
    up_at: int | None = None
    down_at: int | None = None
    offset = 0
    for line in data.splitlines(keepends=True):
        marker = line.strip()
        for name, wanted in (("up", UP_MARKER), ("down", DOWN_MARKER)):
            if marker == wanted or marker.startswith(wanted + b" "):
                seen = up_at if name == "up" else down_at
                if seen is not None:
                    raise FaberError("MIGRATION_FILE_INVALID", f"{label}: more than one `-- migrate:{name}` line",
                                     "Keep one `-- migrate:up` section and at most one `-- migrate:down` section.")
                if name == "up" and down_at is not None:
                    raise FaberError("MIGRATION_FILE_INVALID", f"{label}: `-- migrate:up` comes after "
                                     "`-- migrate:down`", "Put the up section first, then the down section.")
                if name == "up":
                    up_at = offset + len(line)
                else:
                    down_at = offset
        offset += len(line)
    end = down_at if down_at is not None else len(data)
    up = data[up_at or 0:end]
    if down_at is None:
        return up, None
    down = data[down_at:].split(b"\n", 1)
    return up, down[1] if len(down) > 1 else b""


def local_migrations(directory: Path, root: Path) -> list[LocalMigration]:
    """The migration files in version order; bad names and duplicate versions are refused."""
    if not directory.is_dir():
        return []
    ups: dict[str, tuple[str, Path]] = {}
    downs: dict[str, tuple[str, Path]] = {}
    with os.scandir(directory) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if not entry.name.endswith(".sql") or entry.is_dir():
                continue
            shown = _shown(Path(entry.path), root)
            match = FILE_NAME.match(entry.name)
            if match is None:
                raise FaberError("MIGRATION_FILE_INVALID", f"{shown}: not a migration file name", NAMING_HINT,
                                 details={"file": shown})
            found = downs if match["down"] else ups
            version = match["version"]
            if version in found:
                raise FaberError("MIGRATION_FILE_INVALID",
                                 f"{shown}: version {version} is also used by {found[version][1].name}",
                                 "Give each migration a version of its own (a later timestamp for the newer one).",
                                 details={"file": shown, "version": version})
            found[version] = (match["name"], Path(entry.path))
    for version, (name, path) in downs.items():
        if version not in ups or ups[version][0] != name:
            raise FaberError("MIGRATION_FILE_INVALID", f"{_shown(path, root)}: no {version}_{name}.sql beside it",
                             "A .down.sql file belongs to the migration of the same version and name.",
                             details={"file": _shown(path, root)})
    migrations = []
    for version, (name, path) in ups.items():
        shown = _shown(path, root)
        up, down = split_sections(read_project_file(path, root, what="migration"), shown)
        down_path: Path | None = None
        if down is not None:
            down_path = path
        if version in downs:
            if down is not None:
                raise FaberError("MIGRATION_FILE_INVALID", f"{shown}: a `-- migrate:down` section and a "
                                 f"{downs[version][1].name} file", "Keep the down script in one of the two places.",
                                 details={"file": shown})
            down_path = downs[version][1]
            down = read_project_file(down_path, root, what="down script")
        migrations.append(LocalMigration(name=f"{version}_{name}", path=path, sql_path=path,
                                         checksum=hashlib.sha256(up).hexdigest(), down_path=down_path,
                                         up_sql=up, down_sql=down))
    migrations.sort(key=lambda m: (int(m.name.split("_", 1)[0]), m.name))
    return migrations


def applied(db: Database) -> list[AppliedMigration]:
    """Every row of the history table, oldest first (none when the table does not exist)."""
    if not db.table_exists(HISTORY_TABLE):
        return []
    rows = db.query(f"SELECT version, name, checksum, started_at, finished_at, rolled_back_at FROM {HISTORY_TABLE} "
                    "ORDER BY started_at, version")
    return [AppliedMigration(name=f"{r[0]}_{r[1]}", checksum=str(r[2]), started_at=_text(r[3]),
                             finished_at=_text(r[4]), rolled_back_at=_text(r[5])) for r in rows]


def forget(db: Database, names: list[str]) -> None:
    """Mark rolled-back migrations' rows rolled back (kept: the table is also a record of what ran)."""
    for full in names:
        version, _, name = full.partition("_")
        db.execute(f"UPDATE {HISTORY_TABLE} SET rolled_back_at = ? WHERE version = ? AND name = ? "
                   "AND rolled_back_at IS NULL", (_now(), version, name))


class SqlHandler:
    name = "sql"
    display_name = "Database"
    deploy_description = "sql: each pending .sql file in a transaction of its own, through the database's driver"
    history_table = HISTORY_TABLE
    empty_migration_sql = ""
    diff_description = "none: the sql tool has no schema to diff"

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.root = loaded.project_root

    @property
    def migrations_dir(self) -> Path:
        return self.loaded.resolve(self.config.sql.migrations_dir)

    @property
    def schema_path(self) -> Path:
        """There is no schema file: the migrations folder is the source of truth."""
        return self.migrations_dir

    @property
    def schema_dir(self) -> Path:
        """A relative SQLite file path in a URL starts at the project."""
        return self.root

    def local_migrations(self) -> list[LocalMigration]:
        return local_migrations(self.migrations_dir, self.root)

    def applied_migrations(self, db: Database) -> list[AppliedMigration]:
        return applied(db)

    def forget_migrations(self, db: Database, names: list[str]) -> None:
        forget(db, names)

    def version(self) -> str | None:
        return None

    def diffs_from_database(self) -> bool:
        return False

    def diffs_schema(self) -> bool:
        """No schema to diff: a new migration is an empty file the person fills."""
        return False

    def check_datasource(self) -> None:
        """The environment's URL is used as it is: nothing can point elsewhere."""

    def diff_schema(self, *, database_url: str | None, from_database: bool,
                    while_up_runs: Callable[[], None] | None = None,
                    while_down_is_made: Callable[[str], None] | None = None,
                    history: Callable[[], AbstractContextManager[Database]] | None = None,
                    with_down: bool = True) -> SchemaDiff:
        raise FaberError("USAGE", "The sql migration tool has no schema to diff",
                         "Write the change into the new, empty migration file `generate-migration` creates.")

    def summarize(self, sql: str) -> list[dict[str, str]]:
        return []

    @staticmethod
    def warnings_header(findings: list[Finding]) -> str:
        return ""  # a hand-written migration: its author writes what it loses

    def declared_tables(self) -> dict[str, frozenset[str]] | None:
        return None  # plain SQL declares no schema

    def database_schemas(self) -> list[str]:
        return []

    def write_migration(self, name: str, up_sql: str, down_sql: str | None) -> Path:
        """`<migrations_dir>/<name>.sql` with its up and down sections (never over an existing file)."""
        path = self.migrations_dir / f"{name}.sql"
        if path.exists():
            raise FaberError("MIGRATION_FILE_INVALID", f"{_shown(path, self.root)} already exists",
                             "Run generate-migration again a second later, or pick another --name.")
        write_atomic(path, f"-- migrate:up\n{up_sql}\n\n-- migrate:down\n{down_sql or ''}\n")
        return path

    def deploy(self, *, database_url: str, timeout: float | None = None,
               on_line: Callable[[str], None] | None = None) -> ToolOutcome:
        """Apply each pending migration, and its history row, in one transaction of its own; stop at
        the first that fails (its transaction is rolled back: nothing of it stays). `timeout` bounds the
        whole deploy: each migration gets what is left of it, and the database stops the one running
        when it runs out (PostgreSQL's statement_timeout, an interrupt on SQLite)."""
        from faber_db.engines import open_database
        from faber_db.planning import compute_state

        lines: list[str] = []
        deadline = None if timeout is None else time.monotonic() + timeout

        def say(line: str) -> None:
            lines.append(line)
            if on_line is not None:
                on_line(line)

        with open_database(self.config.database.provider, database_url, schema_dir=self.schema_dir,
                           create=True) as db:
            db.execute(CREATE_HISTORY)
            pending = compute_state(self.local_migrations(), applied(db)).pending
            for migration in pending:
                say(f"Applying migration `{migration.name}`")
                version, _, name = migration.name.partition("_")
                started = _now()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return self._timed_out(migration, timeout, lines)
                try:
                    db.apply_script(migration.up_text(), [(RECORD, (version, name, migration.checksum, started,
                                                                    _now()))], timeout=left)
                except FaberError as exc:
                    say(f"Error: {exc.message}")
                    if exc.details.get("timed_out"):
                        return self._timed_out(migration, timeout, lines)
                    return ToolOutcome(ok=False, output=redact(output_tail("\n".join(lines))), failed_migration=
                                       migration.name, error=FaberError(
                                           "MIGRATION_FAILED", f"{migration.name} failed: {exc.message}",
                                           f"Fix the SQL of {_shown(migration.sql_path, self.root)}; its "
                                           "transaction was rolled back, so nothing of it was applied.",
                                           details={"database_error": exc.message}))
            say(f"Applied {len(pending)} migration(s)")
        return ToolOutcome(ok=True, output=redact(output_tail("\n".join(lines))))

    def _timed_out(self, migration: LocalMigration, timeout: float | None, lines: list[str]) -> ToolOutcome:
        """The deploy ran out of time in `migration`. Its transaction was rolled back and the connection
        is closed with the handler's: no session of it outlives the deploy (so not `timed_out`, which
        tells the caller to end a stopped tool's sessions)."""
        return ToolOutcome(ok=False, output=redact(output_tail("\n".join(lines))), failed_migration=migration.name,
                           error=FaberError(
                               "MIGRATION_FAILED", f"{migration.name} did not finish within the deploy's timeout"
                               + (f" ({timeout:g} s)" if timeout else "") + "; its transaction was rolled back",
                               f"Pass a longer --timeout, or split {_shown(migration.sql_path, self.root)} into "
                               "smaller migrations; the migrations before it are applied.",
                               details={"timed_out": True}))

    @staticmethod
    def applying_migration(line: str) -> str | None:
        match = re.match(r"Applying migration `([^`]+)`", line)
        return match[1] if match else None

    @staticmethod
    def fixes_without_restore(failed: str, environment: str) -> list[str]:
        """A failed migration's transaction was rolled back: there is nothing to undo or mark."""
        return [f"Nothing of {failed} stayed (its transaction was rolled back; the migrations before it are "
                f"applied): fix its SQL, then `faber-db migrate {environment}` again"]

    def client_generation(self) -> tuple[bool, str]:
        return False, "the sql tool has no client"

    def generate_client(self, *, database_url: str | None) -> ToolOutcome:
        return ToolOutcome(ok=False, output="the sql tool has no client")

    def execute_script(self, path: Path, *, database_url: str, what: str) -> ToolOutcome:
        """A down script, in one transaction: it runs entirely or not at all."""
        from faber_db.engines import open_database

        script = path.read_bytes().decode("utf-8", errors="replace")
        with open_database(self.config.database.provider, database_url, schema_dir=self.schema_dir) as db:
            try:
                db.apply_script(script)
            except FaberError as exc:
                return ToolOutcome(ok=False, output=redact(exc.message), error=FaberError(
                    "MIGRATION_FAILED", f"{what} failed: {exc.message}",
                    "Fix the down section; its transaction was rolled back, so nothing of it ran."))
        return ToolOutcome(ok=True)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
