"""Read the databases the tests' Prisma runs wrote to."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .prisma import PrismaProject

MIGRATION_COLUMNS = (
    "id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count"
)


def migration_checksum(migration_sql: Path | bytes) -> str:
    """What Prisma stores in _prisma_migrations.checksum: sha256 hex of the migration.sql bytes."""
    data = migration_sql if isinstance(migration_sql, bytes) else migration_sql.read_bytes()
    return hashlib.sha256(data).hexdigest()


def sqlite_query(db_path: Path, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(query, params).fetchall()]


def pg_query(url: str, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return list(conn.execute(query, params).fetchall())


def query(project: PrismaProject, sql_text: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Run a query on the project's database (sqlite3 / psycopg); rows as dicts."""
    if project.database_url is None:
        raise ValueError("project has no database")
    if project.provider == "sqlite":
        if project.database_path is None:
            raise ValueError("SQLite project has no database_path")
        return sqlite_query(project.database_path, sql_text, params)
    return pg_query(project.database_url, sql_text, params)


def migration_rows(project: PrismaProject) -> list[dict[str, Any]]:
    """All _prisma_migrations rows, oldest first."""
    return query(
        project, f'SELECT {MIGRATION_COLUMNS} FROM "_prisma_migrations" ORDER BY started_at, migration_name'
    )
