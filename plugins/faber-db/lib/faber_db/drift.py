"""Drift: does the live database match what its applied migration history produces?

Design (chosen over Prisma's `migrate diff --from-migrations … --to-url`): replay the applied
migrations' SQL into a throwaway database (SQLite: a temp file; PostgreSQL: a temp database on the
same server, always dropped) through faber-db's own driver, then compare the two catalogs
ourselves. It needs no shadow-database flags (which Prisma 7 and driver adapters treat differently),
works the same for every Prisma version, costs no Node start (tens of ms instead of ~1 s), and names
each differing table, column, index and constraint instead of printing a SQL script.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.database import Database
    from faber_db.handlers.base import LocalMigration
    from faber_db.runtime import Target

HISTORY_TABLES = {"_prisma_migrations"}
# object kind -> {(table, name): definition}
Catalog = dict[str, dict[tuple[str, str], str]]


@dataclass
class Difference:
    object: str  # table / column / index / constraint / enum
    table: str
    name: str
    change: str  # "only in the database" / "missing from the database" / "differs"
    expected: str | None = None
    actual: str | None = None

    def describe(self) -> str:
        where = f"{self.table}.{self.name}" if self.object != "table" else self.table
        return f"{self.object} {where}: {self.change}"


def read_catalog(db: Database) -> Catalog:
    if db.provider == "sqlite":
        return _sqlite_catalog(db)
    return _pg_catalog(db)


def _sqlite_catalog(db: Database) -> Catalog:
    catalog: Catalog = {"table": {}, "column": {}, "index": {}, "constraint": {}}
    for table in db.tables():
        if table in HISTORY_TABLES:
            continue
        quoted = '"' + table.replace('"', '""') + '"'
        catalog["table"][(table, table)] = "table"
        for _cid, name, type_, notnull, default, pk in db.query(f"PRAGMA table_info({quoted})"):
            catalog["column"][(table, name)] = _column_words(type_ or "untyped", not notnull, default,
                                                             "primary key" if pk == 1 else
                                                             f"primary key (part {pk})" if pk else "")
        for _seq, name, unique, origin, partial in db.query(f"PRAGMA index_list({quoted})"):
            columns = [r[2] for r in db.query(f"PRAGMA index_info(\"{name.replace(chr(34), chr(34) * 2)}\")")]
            made_by = {"u": ", made by a UNIQUE constraint", "pk": ", made by the PRIMARY KEY"}.get(origin, "")
            catalog["index"][(table, name)] = (f"{'unique index' if unique else 'index'} on ({', '.join(columns)})"
                                               f"{made_by}{', partial (with WHERE)' if partial else ''}")
        for row in db.query(f"PRAGMA foreign_key_list({quoted})"):
            _id, _seq, ref, column, ref_column, on_update, on_delete = row[:7]
            key = f"foreign key ({column}) references {ref}({ref_column})"
            catalog["constraint"][(table, key)] = f"on update {on_update}, on delete {on_delete}"
    return catalog


def _pg_schema(db: Database) -> str:
    return str(getattr(getattr(db, "target", None), "schema", "public"))


def _pg_catalog(db: Database) -> Catalog:
    schema = _pg_schema(db)
    catalog: Catalog = {"table": {}, "column": {}, "index": {}, "constraint": {}, "enum": {}}
    tables = {t for t in db.tables() if t not in HISTORY_TABLES}
    for table in tables:
        catalog["table"][(table, table)] = "table"
    for table, column, type_, nullable, default, length in db.query(
            "SELECT table_name, column_name, udt_name, is_nullable, column_default, character_maximum_length "
            "FROM information_schema.columns WHERE table_schema = ?", (schema,)):
        if table in tables:
            catalog["column"][(table, column)] = _column_words(f"{type_}({length})" if length else str(type_),
                                                               nullable == "YES", default)
    for table, name, definition in db.query(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ?", (schema,)):
        if table in tables:
            catalog["index"][(table, name)] = str(definition).replace(f'"{schema}".', "").replace(f"{schema}.", "")
    for table, name, definition in db.query(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ?", (schema,)):
        if table in tables:
            catalog["constraint"][(table, name)] = str(definition).replace(f'"{schema}".', "")
    for type_name, labels in db.query(
            "SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) FROM pg_type t "
            "JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = ? GROUP BY t.typname", (schema,)):
        catalog["enum"][(type_name, type_name)] = f"values {labels}"
    return catalog


def _column_words(type_: str, nullable: bool, default: object, key: str = "") -> str:
    """A column's definition as a person reads it: `TEXT, NOT NULL, default 'x', primary key`."""
    parts = [type_, "nullable" if nullable else "NOT NULL"]
    if default is not None:
        parts.append(f"default {default}")
    return ", ".join([*parts, key] if key else parts)


def compare(expected: Catalog, actual: Catalog) -> list[Difference]:
    differences: list[Difference] = []
    for kind in expected.keys() | actual.keys():
        want, have = expected.get(kind, {}), actual.get(kind, {})
        dropped_tables = {t for t, _ in want} - {t for t, _ in have} if kind != "table" else set()
        added_tables = {t for t, _ in have} - {t for t, _ in want} if kind != "table" else set()
        for key in sorted(want.keys() | have.keys()):
            table, name = key
            if kind != "table" and (table in dropped_tables or table in added_tables):
                continue  # reported once, as the table
            if key not in have:
                differences.append(Difference(kind, table, name, "missing from the database", want[key], None))
            elif key not in want:
                differences.append(Difference(kind, table, name, "only in the database (not in any migration)",
                                              None, have[key]))
            elif want[key] != have[key]:
                differences.append(Difference(kind, table, name, "differs from the migrations", want[key], have[key]))
    order = {"table": 0, "column": 1, "index": 2, "constraint": 3, "enum": 4}
    return sorted(differences, key=lambda d: (order.get(d.object, 9), d.table, d.name))


@contextlib.contextmanager
def _scratch_database(target: Target) -> Iterator[Database]:
    """An empty database of the target's kind, gone afterwards (also on errors and Ctrl-C)."""
    from faber_db.database import (
        PostgresDatabase,
        SqliteDatabase,
        create_temp_database,
        drop_database_quietly,
        parse_postgres_url,
    )

    if target.provider == "sqlite":
        with tempfile.TemporaryDirectory(prefix="faber-drift-") as tmp, \
                SqliteDatabase(Path(tmp) / "expected.db", create=True) as db:
            yield db
        return
    name, url = create_temp_database(target.url, prefix="faber_drift")
    try:
        with PostgresDatabase(parse_postgres_url(url)) as db:
            yield db
    finally:
        drop_database_quietly(target.url, name)


def replay(db: Database, migrations: list[LocalMigration]) -> None:
    from faber_db.database import SqliteDatabase

    for migration in migrations:
        script = migration.sql_path.read_text("utf-8")
        try:
            if isinstance(db, SqliteDatabase):
                db.connection.executescript(script)
            else:
                db.execute(script)  # no parameters: one simple-query batch, as Prisma sends it
        except (FaberError, sqlite3.Error) as exc:
            raise FaberError("DRIFT_DETECTED", f"Replaying {migration.name} into a scratch database failed: {exc}",
                             "The migration history itself does not apply cleanly; check that migration.") from None


def detect(target: Target, live: Database, applied: list[str]) -> list[Difference]:
    """Differences between the live database and a replay of its applied migrations."""
    wanted = set(applied)
    history = [m for m in target.handler.local_migrations() if m.name in wanted]
    with _scratch_database(target) as scratch:
        replay(scratch, history)
        expected = read_catalog(scratch)
    return compare(expected, read_catalog(live))


def as_dicts(differences: list[Difference]) -> list[dict[str, Any]]:
    return [{"object": d.object, "table": d.table, "name": d.name, "change": d.change,
             "expected": d.expected, "actual": d.actual} for d in differences]
