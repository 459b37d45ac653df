"""Throwaway databases a migration history is replayed into, with the URL a migration tool reaches
them by: SQLite a temporary file, PostgreSQL a temporary database on the environment's server (always
dropped) or the environment's shadow database (emptied first, as migration tools empty a shadow).
Each is opened for a fast replay: nothing it holds needs to survive a crash."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.engines.model import quote_ident

if TYPE_CHECKING:
    from faber_db.engines import Database
    from faber_db.engines.postgres import PostgresDatabase


@contextlib.contextmanager
def scratch_history_database(provider: str, server_url: str, *, shadow_url: str | None = None
                             ) -> Iterator[tuple[str, Database]]:
    """(URL, open connection) of an empty database, gone afterwards (also on errors and Ctrl-C).
    PostgreSQL: `shadow_url` when given (emptied, not dropped), else a temporary database on the
    server of `server_url`. SQLite: a temporary file (`server_url` names nothing it needs)."""
    from faber_db.engines import engine

    if engine(provider).name == "sqlite":
        from faber_db.engines.sqlite import SqliteDatabase

        with tempfile.TemporaryDirectory(prefix="faber-scratch-") as tmp:
            path = Path(tmp) / "scratch.db"
            with SqliteDatabase(path, create=True) as db:
                # a throwaway file: no fsync per statement (a 50-migration replay spent ~1 s in them)
                db.execute("PRAGMA journal_mode = MEMORY")
                db.execute("PRAGMA synchronous = OFF")
                yield f"file:{path}", db
        return
    from faber_db.engines.postgres import create_temp_database, drop_database_quietly

    if shadow_url:
        with _connect(shadow_url) as db:
            _empty(db)
            yield shadow_url, db
        return
    name, url = create_temp_database(server_url, prefix="faber_scratch")
    try:
        with _connect(url) as db:
            yield url, db
    finally:
        drop_database_quietly(server_url, name)


@contextlib.contextmanager
def tool_workspace_url(provider: str, server_url: str) -> Iterator[str]:
    """The URL to give a migration tool that makes its own shadow databases beside it: on PostgreSQL
    the environment's server (the database itself is not changed), on SQLite a file in a temporary
    folder, gone afterwards."""
    from faber_db.engines import engine

    if engine(provider).name != "sqlite":
        yield server_url
        return
    with tempfile.TemporaryDirectory(prefix="faber-scratch-") as tmp:
        yield f"file:{Path(tmp) / 'scratch.db'}"


@contextlib.contextmanager
def _connect(url: str) -> Iterator[PostgresDatabase]:
    from faber_db.engines.postgres import PostgresDatabase, parse_postgres_url

    target = parse_postgres_url(url)
    with PostgresDatabase(target) as db:
        db.execute("SET synchronous_commit TO off")  # a throwaway database: no WAL flush per migration
        if target.schema != "public":  # as a shadow database is prepared: the URL's schema exists
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(target.schema)}")
        yield db


def _empty(db: PostgresDatabase) -> None:
    """Drop every schema of a shadow database and recreate `public` (and the URL's schema)."""
    for (schema,) in db.query(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
            "AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'"):
        db.execute(f"DROP SCHEMA {quote_ident(str(schema))} CASCADE")
    db.execute('CREATE SCHEMA IF NOT EXISTS "public"')
    if db.target.schema != "public":
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(db.target.schema)}")
        db.execute(f"SET search_path TO {quote_ident(db.target.schema)}")
