"""Catalog facts for writing a migration's inverse, and a rehearsal that proves the inverse right.

A migration tool's down script for a change that drops something must re-create it exactly as it
was. The database the history was replayed into (the state before the change) knows how it was:
on SQLite the original CREATE TABLE / CREATE INDEX text in sqlite_master; on PostgreSQL each
column's type, default and nullability and the definitions of indexes and constraints, rendered
with an empty search_path so every name in them is schema-qualified.

`rehearse` never trusts the derivation: it runs the change and then the derived inverse on a copy
(SQLite: an in-memory copy; PostgreSQL: a transaction always rolled back) and returns the inverse
only when the database is then back to its catalog from before. The caller keeps its slower path
otherwise. The database itself is never changed.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.engines import Database
    from faber_db.engines.postgres import PostgresDatabase


@dataclass(frozen=True)
class SqliteObject:
    type: str  # table / index / view / trigger
    table: str
    sql: str


@dataclass
class SqliteShape:
    """A SQLite database's schema objects (sqlite_master, their own text) and each table's columns,
    before the change and after it."""

    before: dict[str, SqliteObject]
    after: dict[str, SqliteObject]
    columns_before: dict[str, list[str]]
    columns_after: dict[str, list[str]]


@dataclass(frozen=True)
class PostgresColumn:
    type: str  # format_type, schema-qualified where needed; "serial"-style where the column owns its sequence
    not_null: bool
    default: str | None
    # what a plain ADD COLUMN cannot give back: identity, generated, a collation of its own
    special: bool


@dataclass(frozen=True)
class PostgresIndex:
    table: str
    definition: str  # pg_get_indexdef
    constraint: str | None  # the constraint it implements (primary key, unique), if any
    columns: frozenset[str]


@dataclass(frozen=True)
class PostgresConstraint:
    kind: str  # p / u / f / c / x
    definition: str  # pg_get_constraintdef
    columns: frozenset[str]
    references: str | None  # the table a foreign key references


@dataclass
class PostgresShape:
    """The tables of one PostgreSQL schema before the change: columns in order, indexes, constraints,
    and which tables other objects (triggers, policies, views, rules) depend on."""

    schema: str
    columns: dict[str, dict[str, PostgresColumn]] = field(default_factory=dict)
    indexes: dict[str, PostgresIndex] = field(default_factory=dict)
    constraints: dict[tuple[str, str], PostgresConstraint] = field(default_factory=dict)


Shape = SqliteShape | PostgresShape
Derive = Callable[[Shape], str | None]


def rehearse(db: Database, up_sql: str, derive: Derive) -> str | None:
    """The inverse `derive` writes for `up_sql`, if running `up_sql` and then it on a copy of `db`
    gives back `db`'s catalog; else None. `db` holds the state before the change and is not changed."""
    from faber_db.engines.postgres import PostgresDatabase
    from faber_db.engines.sqlite import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        return _rehearse_sqlite(db.connection, up_sql, derive)
    if isinstance(db, PostgresDatabase):
        return _rehearse_postgres(db, up_sql, derive)
    return None


# --- SQLite -----------------------------------------------------------------------------------------

def _sqlite_objects(conn: sqlite3.Connection) -> dict[str, SqliteObject]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                        "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").fetchall()
    return {str(name): SqliteObject(str(type_), str(table), str(sql)) for type_, name, table, sql in rows}


def _sqlite_columns(conn: sqlite3.Connection, objects: dict[str, SqliteObject]) -> dict[str, list[str]]:
    from faber_db.engines.model import quote_ident

    return {name: [str(r[1]) for r in conn.execute(f"PRAGMA table_info({quote_ident(name)})")]
            for name, obj in objects.items() if obj.type == "table"}


def _rehearse_sqlite(source: sqlite3.Connection, up_sql: str, derive: Derive) -> str | None:
    copy = sqlite3.connect(":memory:", isolation_level=None)
    try:
        source.backup(copy)  # a consistent copy; the scratch file may be read by another process meanwhile
        before = _sqlite_objects(copy)
        columns_before = _sqlite_columns(copy, before)
        try:
            copy.executescript(up_sql)
            after = _sqlite_objects(copy)
            down = derive(SqliteShape(before, after, columns_before, _sqlite_columns(copy, after)))
            if down is None:
                return None
            copy.executescript(down)
        except sqlite3.Error:
            return None
        # the objects' own text, exactly: a re-created table or index reads as it did
        return down if _sqlite_objects(copy) == before else None
    finally:
        copy.close()


# --- PostgreSQL -------------------------------------------------------------------------------------

_COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       s.relname,
       a.attidentity <> '' OR a.attgenerated <> '' OR a.attcollation <> t.typcollation
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN (pg_depend p JOIN pg_class s ON s.oid = p.objid AND s.relkind = 'S')
  ON p.refclassid = 'pg_class'::regclass AND p.refobjid = c.oid AND p.refobjsubid = a.attnum
 AND p.classid = 'pg_class'::regclass AND p.deptype = 'a'
WHERE n.nspname = ? AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum
"""

_INDEXES_SQL = """
SELECT i.relname, c.relname, pg_get_indexdef(i.oid),
       k.conname,
       ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY(x.indkey))::text[],
       x.indexprs IS NOT NULL OR x.indpred IS NOT NULL
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_constraint k ON k.conindid = i.oid AND k.conrelid = c.oid AND k.contype IN ('p', 'u', 'x')
WHERE n.nspname = ?
"""

_CONSTRAINTS_SQL = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid),
       ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY(k.conkey))::text[],
       (SELECT quote_ident(rn.nspname) || '.' || quote_ident(r.relname) FROM pg_class r
         JOIN pg_namespace rn ON rn.oid = r.relnamespace WHERE r.oid = k.confrelid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ?
"""

_SERIAL = {"integer": "SERIAL", "bigint": "BIGSERIAL", "smallint": "SMALLSERIAL"}


def _postgres_shape(db: PostgresDatabase, schema: str) -> PostgresShape:
    """The schema's tables as the inverse needs them. Call inside a transaction whose search_path is
    empty, so that types, defaults and definitions name their schemas."""
    shape = PostgresShape(schema)
    for table, column, type_, not_null, default, sequence, special in db.query(_COLUMNS_SQL, (schema,)):
        table, column, type_ = str(table), str(column), str(type_)
        # a column that owns the sequence its default draws from is what SERIAL makes (an autoincrement column)
        owned = sequence is not None and str(sequence) == f"{table}_{column}_seq" and type_ in _SERIAL
        if owned and default == f"nextval({_regclass_literal(schema, str(sequence))}::regclass)":
            type_, default = _SERIAL[type_], None
        elif sequence is not None:
            special = True  # an owned sequence SERIAL would not re-create as it was
        shape.columns.setdefault(table, {})[column] = PostgresColumn(
            type_, bool(not_null), None if default is None else str(default), bool(special))
    for index, table, definition, constraint, columns, expression in db.query(_INDEXES_SQL, (schema,)):
        # an expression or partial index involves columns the key list does not name: never "unrelated"
        names = frozenset(str(c) for c in columns) | (frozenset({"*"}) if expression else frozenset())
        shape.indexes[str(index)] = PostgresIndex(str(table), str(definition),
                                                  None if constraint is None else str(constraint), names)
    for table, name, kind, definition, columns, references in db.query(_CONSTRAINTS_SQL, (schema,)):
        names = frozenset(str(c) for c in columns or ()) or frozenset({"*"})
        shape.constraints[(str(table), str(name))] = PostgresConstraint(
            str(kind), str(definition), names, None if references is None else str(references))
    return shape


def _regclass_literal(schema: str, name: str) -> str:
    """How pg_get_expr writes a sequence's name in `nextval(...)` under an empty search_path."""
    from faber_db.engines.model import quote_literal

    def ident(part: str) -> str:
        return part if re.fullmatch(r"[a-z_][a-z0-9_$]*", part) else '"' + part.replace('"', '""') + '"'
    return quote_literal(f"{ident(schema)}.{ident(name)}")


def _shape_catalog(db: PostgresDatabase, schema: str) -> dict[str, dict[tuple[str, str], str]]:
    """The drift catalog of `schema`, in the current transaction, columns without their position: an
    inverse that re-adds a dropped column appends it, as every migration tool's reverse diff does."""
    from faber_db.engines import postgres_catalog

    catalog: dict[str, dict[tuple[str, str], str]] = {}
    for kind, parent, name, definition in db.query(postgres_catalog.catalog_sql([schema], schema)):
        if kind in postgres_catalog.SHAPE_KINDS:
            text = re.sub(r" #\d+$", "", str(definition)) if kind == "column" else str(definition)
            catalog.setdefault(str(kind), {})[(str(parent), str(name))] = text
    return catalog


def _rehearse_postgres(db: PostgresDatabase, up_sql: str, derive: Derive) -> str | None:
    from faber_db.engines import postgres_catalog

    schema = db.target.schema
    try:
        db.execute("BEGIN")
        try:
            db.execute("SET LOCAL lock_timeout = '5s'")  # never wait long on a migration tool reading the database
            db.execute("SAVEPOINT shape")
            for setting in postgres_catalog.PIN_SETTINGS:
                db.execute(setting)
            before = _shape_catalog(db, schema)
            down = derive(_postgres_shape(db, schema))
            db.execute("ROLLBACK TO SAVEPOINT shape")  # the settings: the scripts run as a migration does
            if down is None:
                return None
            db.run_script(up_sql)
            db.run_script(down)
            for setting in postgres_catalog.PIN_SETTINGS:
                db.execute(setting)
            return down if _shape_catalog(db, schema) == before else None
        finally:
            with contextlib.suppress(FaberError):
                db.execute("ROLLBACK")
    except FaberError:
        return None
