"""Fixtures of the fault suite: a project with User and Post (init migration from real Prisma's
`migrate diff`, deployed from a session template) on SQLite or on the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import PrismaProject, SessionCache, attach_pg, attach_sqlite, clone_pg, copy_sqlite, make_project

from .helpers import FAULT_MODELS, INIT

PROVIDERS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path, kit_node_modules: Path,
            prisma_cache: SessionCache) -> Iterator[PrismaProject]:
    """Parametrize with `indirect=True` and "sqlite" / "postgresql": the project in tmp_path/app,
    its init migration (User, Post) deployed, no rows yet."""
    provider = getattr(request, "param", "sqlite")
    root = tmp_path / "app"
    if provider == "sqlite":
        sql = prisma_cache.init_sql("sqlite", FAULT_MODELS)
        project = make_project(root, "sqlite", FAULT_MODELS, kit_node_modules)
        project.add_migration(INIT, sql)
        template = prisma_cache.sqlite_template([(INIT, sql)], FAULT_MODELS)
        yield attach_sqlite(project, copy_sqlite(template, root / "app.db"))
        return
    server = request.getfixturevalue("pg_server")
    sql = prisma_cache.init_sql("postgresql", FAULT_MODELS, server=server)
    project = make_project(root, "postgresql", FAULT_MODELS, kit_node_modules)
    project.add_migration(INIT, sql)
    template = prisma_cache.pg_template(server, [(INIT, sql)], FAULT_MODELS)
    dbname = clone_pg(server, template)
    try:
        yield attach_pg(project, server, dbname)
    finally:
        server.drop_database(dbname)
