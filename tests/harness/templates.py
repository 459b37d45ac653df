"""Do real-Prisma work once per session and copy the results per test."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from psycopg import sql

from .postgres import PostgresServer
from .prisma import DEFAULT_MODELS, PrismaProject, Provider, diff_sql_from_empty, make_project

Migration = tuple[str, str]
"""(folder name, migration.sql text)"""

EMPTY_PG_TEMPLATE = "faber_tpl_empty"


def unique_db_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def sqlite_url(path: Path) -> str:
    """Absolute `file:` URL for a SQLite database file."""
    return f"file:{path.resolve()}"


def copy_sqlite(template: Path, dest: Path) -> Path:
    """Copy a SQLite database file (and any -wal/-journal sidecar) to dest; returns dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, dest)
    for suffix in ("-wal", "-journal"):
        side = template.with_name(template.name + suffix)
        if side.exists():
            shutil.copy(side, dest.with_name(dest.name + suffix))
    return dest


def sqlite_template(
    work_dir: Path,
    node_modules: Path,
    migrations: Sequence[Migration],
    models: str = DEFAULT_MODELS,
) -> Path:
    """Deploy migrations with real Prisma into work_dir/template.db once; returns that file.
    Copy it per test with copy_sqlite()/shutil.copy."""
    project = make_project(work_dir / "project", "sqlite", models, node_modules)
    for name, text in migrations:
        project.add_migration(name, text)
    db = work_dir / "template.db"
    project.prisma("migrate", "deploy", database_url=sqlite_url(db))
    return db


def pg_template(
    server: PostgresServer,
    work_dir: Path,
    node_modules: Path,
    migrations: Sequence[Migration],
    models: str = DEFAULT_MODELS,
    name: str | None = None,
) -> str:
    """Create a database, deploy migrations into it with real Prisma, and close it to
    connections (ALLOW_CONNECTIONS false) so CREATE DATABASE ... TEMPLATE never finds it busy.
    Returns its name; clone per test with clone_pg()."""
    name = name or unique_db_name("tpl")
    server.create_database(name)
    if migrations:
        project = make_project(work_dir / "project", "postgresql", models, node_modules)
        for mname, text in migrations:
            project.add_migration(mname, text)
        project.prisma("migrate", "deploy", database_url=server.url(name))
    seal_pg_template(server, name)
    return name


def seal_pg_template(server: PostgresServer, name: str) -> None:
    with server.admin_connection() as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
                sql.Identifier(name)
            )
        )


def clone_pg(server: PostgresServer, template: str, name: str | None = None) -> str:
    """CREATE DATABASE name TEMPLATE template; returns the new name."""
    return server.create_database(name or unique_db_name(), template=template)


class SessionCache:
    """Memoises the expensive real-Prisma steps for a test session.

    - init_sql(provider, models): `migrate diff --from-empty` output, once per (provider, models).
    - sqlite_template(migrations, models): a deployed SQLite file, once per content.
    - pg_template(server, migrations, models): a deployed, sealed PostgreSQL template database.
    """

    def __init__(self, work_dir: Path, node_modules: Path) -> None:
        self.work_dir = work_dir
        self.node_modules = node_modules
        self._sql: dict[tuple[str, str], str] = {}
        self._sqlite: dict[str, Path] = {}
        self._pg: dict[str, str] = {}

    @staticmethod
    def _key(*parts: object) -> str:
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

    def init_sql(
        self, provider: Provider, models: str = DEFAULT_MODELS, server: PostgresServer | None = None
    ) -> str:
        key = (provider, models)
        if key not in self._sql:
            work = self.work_dir / f"diff-{provider}-{self._key(provider, models)}"
            project = make_project(work, provider, models, self.node_modules)
            url: str | None = None
            if provider == "postgresql":
                if server is None:
                    raise ValueError("init_sql('postgresql') needs the PostgresServer")
                url = server.url("postgres")  # connected to, never changed
            self._sql[key] = diff_sql_from_empty(project, database_url=url)
        return self._sql[key]

    def sqlite_template(self, migrations: Sequence[Migration], models: str = DEFAULT_MODELS) -> Path:
        key = self._key(tuple(migrations), models)
        if key not in self._sqlite:
            self._sqlite[key] = sqlite_template(
                self.work_dir / f"sqlite-{key}", self.node_modules, migrations, models
            )
        return self._sqlite[key]

    def pg_template(
        self, server: PostgresServer, migrations: Sequence[Migration], models: str = DEFAULT_MODELS
    ) -> str:
        key = self._key(server.port, str(self.node_modules), tuple(migrations), models)  # one template per kit
        if key not in self._pg:
            self._pg[key] = pg_template(
                server, self.work_dir / f"pg-{key}", self.node_modules, migrations, models, name=f"tpl_{key}"
            )
        return self._pg[key]


def attach_sqlite(project: PrismaProject, db_path: Path) -> PrismaProject:
    project.database_path = db_path
    project.database_url = sqlite_url(db_path)
    return project


def attach_pg(project: PrismaProject, server: PostgresServer, dbname: str) -> PrismaProject:
    project.database_name = dbname
    project.database_url = server.url(dbname)
    return project
