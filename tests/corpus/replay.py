"""Replay a history statement by statement and count the rows each labelled statement touches.

The count is what the database reports at that point of the history, with the statement itself
run on it: rows a DELETE (or a DO block deleting) removes, rows an UPDATE rewrites (the rows whose
xmin is the statement's own transaction), rows a filtered SQLite copy leaves behind, and for
every other kind the rows of the table just before the statement.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

import psycopg
from psycopg import sql

from . import ROW_KINDS, Label, history, labels, migration_index, provider, seed_after, seed_sql
from .statements import Statement, split

_DELETE_KINDS = frozenset({"delete_where", "delete_without_where"})
_UPDATE_KINDS = frozenset({"update_where", "update_without_where"})
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT"})


def counted(label: Label) -> bool:
    """Whether the replay counts rows for this label (it acts on a relation)."""
    return label.kind in ROW_KINDS and label.table is not None


def _by_migration(name: str) -> dict[str, list[Label]]:
    grouped: dict[str, list[Label]] = {}
    for label in labels(name):
        if counted(label):
            grouped.setdefault(label.migration, []).append(label)
    return grouped


def _at(statements: Iterable[Statement], line: int, migration: str) -> Statement:
    for statement in statements:
        if statement.line == line:
            return statement
    raise ValueError(f"{migration}: no statement starts on line {line}")


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_relation(table: str) -> sql.Composed:
    schema, _, relation = table.partition(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(relation))


def _pg_count(conn: psycopg.Connection[tuple[object, ...]], table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_pg_relation(table))).fetchone()
    assert row is not None
    return int(str(row[0]))


def _pg_measure(
    conn: psycopg.Connection[tuple[object, ...]], statement: Statement, found: list[Label]
) -> dict[Label, int]:
    counts: dict[Label, int] = {}
    with conn.transaction():
        before = {label: _pg_count(conn, label.table) for label in found if label.table is not None}
        conn.execute(statement.text)
        for label in found:
            assert label.table is not None
            if label.kind in _DELETE_KINDS:
                counts[label] = before[label] - _pg_count(conn, label.table)
            elif label.kind in _UPDATE_KINDS:
                # xid8 is epoch << 32 | xid: rows this transaction wrote carry its 32-bit xid in xmin
                query = sql.SQL(
                    "SELECT count(*) FROM {} WHERE xmin::text::bigint = pg_current_xact_id()::text::bigint % 4294967296"
                ).format(_pg_relation(label.table))
                row = conn.execute(query).fetchone()
                assert row is not None
                counts[label] = int(str(row[0]))
            else:
                counts[label] = before[label]
    return counts


def replay_pg(conn: psycopg.Connection[tuple[object, ...]], name: str, start: int = 0) -> dict[Label, int]:
    """Apply the history from migration number start on (and seed.sql after seed_after), one
    statement at a time, and return the measured rows of every counted label on the way.

    conn: an autocommit connection as the database's owner. Its database holds the first start
    migrations (and seed.sql when they reach seed_after); with start 0 it is empty but for the
    extensions a superuser created (corpus.superuser_extensions).
    """
    grouped = _by_migration(name)
    seed_index = migration_index(name, seed_after(name))
    measured: dict[Label, int] = {}
    for index, migration in enumerate(history(name)):
        if index < start:
            continue
        found = grouped.get(migration.name, [])
        statements = split(migration.sql, "postgresql")
        if not found:
            if statements:
                conn.execute(migration.sql)
        else:
            wanted = {label.line for label in found}
            for statement in statements:
                if statement.text.upper() in _TRANSACTION_CONTROL:
                    continue  # each statement below runs in a transaction of its own
                if statement.line in wanted:
                    measured.update(
                        _pg_measure(conn, statement, [label for label in found if label.line == statement.line])
                    )
                else:
                    conn.execute(statement.text)
        if index == seed_index:
            conn.execute(seed_sql(name))
    return measured


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_count(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
    return int(row[0])


def _sqlite_measure(conn: sqlite3.Connection, statement: Statement, found: list[Label]) -> dict[Label, int]:
    before = {label: _sqlite_count(conn, label.table) for label in found if label.table is not None}
    cursor = conn.execute(statement.text)
    counts: dict[Label, int] = {}
    for label in found:
        assert label.table is not None
        if label.kind in _DELETE_KINDS and statement.text.upper().startswith("INSERT"):
            counts[label] = before[label] - cursor.rowcount  # a rebuild's copy: rows not copied
        elif label.kind in _DELETE_KINDS:
            counts[label] = before[label] - _sqlite_count(conn, label.table)
        elif label.kind in _UPDATE_KINDS:
            counts[label] = cursor.rowcount
        else:
            counts[label] = before[label]
    return counts


def replay_sqlite(path: Path, name: str) -> dict[Label, int]:
    """Apply the whole history (and seed.sql after seed_after) to a new SQLite file at path."""
    if provider(name) != "sqlite":
        raise ValueError(f"{name} is not a SQLite history")
    grouped = _by_migration(name)
    seed_index = migration_index(name, seed_after(name))
    measured: dict[Label, int] = {}
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for index, migration in enumerate(history(name)):
            found = grouped.get(migration.name, [])
            wanted = {label.line for label in found}
            for statement in split(migration.sql, "sqlite"):
                if statement.line in wanted:
                    measured.update(
                        _sqlite_measure(conn, statement, [label for label in found if label.line == statement.line])
                    )
                else:
                    conn.execute(statement.text)
            if index == seed_index:
                conn.executescript(seed_sql(name))
    return measured
