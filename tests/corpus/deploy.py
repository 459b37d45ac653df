"""Deploy corpus histories with the real Prisma CLI, once per session, and clone the results.

PostgreSQL databases are owned by OWNER, a role without SUPERUSER, CREATEDB or CREATEROLE (the
usual production role). A superuser first creates the history's extensions in public
(:func:`corpus.superuser_extensions`), as an operator would; the owner then deploys every
migration and loads seed.sql. The role READER exists (NOLOGIN) so the grants the histories make
to it in DO blocks really apply.

Typical use in a test module::

    @pytest.fixture(scope="session")
    def commerce(pg_server: PostgresServer, kit_node_modules: Path) -> str:
        return corpus_templates(pg_server, kit_node_modules).pg("pg_commerce")

    def test_x(pg_server, commerce):
        db = clone_owned(pg_server, commerce)   # a fresh copy owned by OWNER; drop it afterwards
        url = owner_url(pg_server, db)

corpus_templates() keeps one CorpusTemplates per server, so every test module of a session
shares the templates it built.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from harness import (
    PostgresServer,
    PrismaProject,
    copy_sqlite,
    make_project,
    seal_pg_template,
    sqlite_url,
    unique_db_name,
)
from psycopg import sql

from . import history, migration_index, provider, schema_path, seed_after, seed_sql, superuser_extensions

OWNER = "corpus_owner"
OWNER_PASSWORD = "corpus-Owner-pw-71"
READER = "reporting_reader"


def ensure_roles(server: PostgresServer) -> None:
    """Create OWNER (LOGIN, password, no SUPERUSER/CREATEDB/CREATEROLE) and READER (NOLOGIN)."""
    owner_options = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(sql.Literal(OWNER_PASSWORD))
    with server.admin_connection() as conn:
        for role, options in ((OWNER, owner_options), (READER, sql.SQL("NOLOGIN"))):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = sql.SQL("ALTER" if exists else "CREATE")
            conn.execute(sql.SQL("{} ROLE {} {}").format(verb, sql.Identifier(role), options))


def owner_url(server: PostgresServer, dbname: str) -> str:
    """postgresql://corpus_owner:...@127.0.0.1:PORT/dbname"""
    return server.url(dbname, user=OWNER, password=OWNER_PASSWORD)


def create_owned_database(server: PostgresServer, name: str, dbname: str | None = None) -> str:
    """An empty database owned by OWNER with history name's extensions created by the superuser."""
    ensure_roles(server)
    dbname = server.create_database(dbname or unique_db_name("corpus"), owner=OWNER)
    with server.admin_connection(dbname) as conn:
        for extension in superuser_extensions(name):
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(sql.Identifier(extension)))
    return dbname


def clone_owned(server: PostgresServer, template: str, dbname: str | None = None) -> str:
    """CREATE DATABASE ... TEMPLATE template OWNER corpus_owner; returns the new name."""
    return server.create_database(dbname or unique_db_name(), template=template, owner=OWNER)


def write_project(name: str, root: Path, node_modules: Path, upto: str | int | None = None) -> PrismaProject:
    """A Prisma project in root holding history name's schema (file or folder) and its first
    migrations (all of them, or up to upto: a count or a migration name, inclusive).

    With a schema folder, prisma.config.ts points at prisma/schema and project.schema_path
    (prisma/schema.prisma) does not exist.
    """
    project = make_project(root, provider(name), "", node_modules)
    source = schema_path(name)
    if source.is_dir():
        project.schema_path.unlink()
        shutil.copytree(source, root / "prisma" / "schema")
        config = root / "prisma.config.ts"
        text = config.read_text()
        if 'schema: "prisma/schema.prisma"' not in text:
            raise RuntimeError("the kit's prisma.config.ts no longer names prisma/schema.prisma")
        config.write_text(text.replace('schema: "prisma/schema.prisma"', 'schema: "prisma/schema"'))
    else:
        shutil.copyfile(source, project.schema_path)
    add_migrations(project, name, upto)
    return project


def add_migrations(project: PrismaProject, name: str, upto: str | int | None = None) -> None:
    """Copy history name's migrations (up to upto) the project does not have yet, bytes unchanged."""
    present = set(project.migration_names())
    for migration in history(name, upto):
        if migration.name not in present:
            project.add_migration(migration.name, migration.path.read_bytes())


def load_seed_pg(server: PostgresServer, dbname: str, name: str) -> None:
    """Run seed.sql as OWNER in one transaction."""
    with server.connect(dbname, user=OWNER, password=OWNER_PASSWORD) as conn, conn.transaction():
        conn.execute(seed_sql(name))


def load_seed_sqlite(path: Path, name: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(seed_sql(name))


def _count(name: str, upto: str | int | None) -> int:
    return len(history(name, upto))


def _seed_count(name: str) -> int:
    return migration_index(name, seed_after(name)) + 1


class CorpusTemplates:
    """Deployed histories, built once and kept for the session.

    pg(name, upto, seeded) -> a sealed template database (clone it with clone_owned);
    sqlite(name, upto, seeded) -> a database file (copy it with harness.copy_sqlite).
    upto: a migration count or name (inclusive), None for the whole history. seeded: load
    seed.sql right after seed_after(name) when the deployed range reaches it.
    """

    def __init__(self, server: PostgresServer | None, node_modules: Path, work_dir: Path) -> None:
        self._server = server
        self._node_modules = node_modules
        self._work_dir = work_dir
        self._pg: dict[tuple[str, int, bool], str] = {}
        self._sqlite: dict[tuple[str, int, bool], Path] = {}

    @property
    def server(self) -> PostgresServer:
        if self._server is None:
            raise RuntimeError("these CorpusTemplates have no PostgreSQL server")
        return self._server

    def pg(self, name: str, upto: str | int | None = None, seeded: bool = True) -> str:
        if provider(name) != "postgresql":
            raise ValueError(f"{name} is a {provider(name)} history")
        count = _count(name, upto)
        seeded = seeded and count >= _seed_count(name)
        key = (name, count, seeded)
        if key not in self._pg:
            self._pg[key] = self._build_pg(name, count, seeded)
        return self._pg[key]

    def _build_pg(self, name: str, count: int, seeded: bool) -> str:
        server = self.server
        work = Path(tempfile.mkdtemp(prefix=f"{name}-{count}-", dir=self._work_dir))
        seed_count = _seed_count(name)
        if seeded and count > seed_count:
            # later migrations start from a copy of the seeded template: seeding runs once
            dbname = clone_owned(server, self.pg(name, seed_count), unique_db_name(f"tpl_{name}"))
            project = write_project(name, work, self._node_modules, count)
            project.prisma("migrate", "deploy", database_url=owner_url(server, dbname), timeout=600)
        else:
            dbname = create_owned_database(server, name, unique_db_name(f"tpl_{name}"))
            project = write_project(name, work, self._node_modules, count)
            project.prisma("migrate", "deploy", database_url=owner_url(server, dbname), timeout=600)
            if seeded:
                load_seed_pg(server, dbname, name)
        seal_pg_template(server, dbname)
        return dbname

    def sqlite(self, name: str, upto: str | int | None = None, seeded: bool = True) -> Path:
        if provider(name) != "sqlite":
            raise ValueError(f"{name} is a {provider(name)} history")
        count = _count(name, upto)
        seeded = seeded and count >= _seed_count(name)
        key = (name, count, seeded)
        if key not in self._sqlite:
            self._sqlite[key] = self._build_sqlite(name, count, seeded)
        return self._sqlite[key]

    def _build_sqlite(self, name: str, count: int, seeded: bool) -> Path:
        work = Path(tempfile.mkdtemp(prefix=f"{name}-{count}-", dir=self._work_dir))
        db = work / "template.db"
        seed_count = _seed_count(name)
        if seeded and count > seed_count:
            copy_sqlite(self.sqlite(name, seed_count), db)
        project = write_project(name, work / "project", self._node_modules, count)
        project.prisma("migrate", "deploy", database_url=sqlite_url(db), timeout=600)
        if seeded and count == seed_count:
            load_seed_sqlite(db, name)
        return db


_SHARED: dict[tuple[int, int | None], CorpusTemplates] = {}


def corpus_templates(server: PostgresServer | None, node_modules: Path) -> CorpusTemplates:
    """The session's CorpusTemplates for this server (None: SQLite only), created on first use."""
    key = (id(server), server.port if server is not None else None)
    if key not in _SHARED:
        work_dir = Path(tempfile.mkdtemp(prefix="faber-corpus-"))
        atexit.register(shutil.rmtree, work_dir, ignore_errors=True)
        _SHARED[key] = CorpusTemplates(server, node_modules, work_dir)
    return _SHARED[key]


__all__ = [
    "OWNER",
    "OWNER_PASSWORD",
    "READER",
    "CorpusTemplates",
    "add_migrations",
    "clone_owned",
    "corpus_templates",
    "create_owned_database",
    "ensure_roles",
    "load_seed_pg",
    "load_seed_sqlite",
    "owner_url",
    "write_project",
]
