"""Session fixtures: the npm kits, a private PostgreSQL server, and fresh Prisma projects.

Which Prisma: every Prisma-using fixture stands on `prisma_kit`, Prisma 6.15 unless the test is
marked `prisma_majors` (e.g. `pytestmark = pytest.mark.prisma_majors`): then it runs once per major,
Prisma 6.15 and 7.10.1 (`@pytest.mark.prisma_majors(7)`: Prisma 7 only; `(6, "6.19", 7)`: 6.19 too). `--prisma 6|7|all`
(default all) selects the majors that run; a test on the default kit is a Prisma 6 test. A fixture
that picks a project fixture by name (getfixturevalue) must itself ask for `prisma_kit`, so the
parameter reaches it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import (
    DEFAULT_MODELS,
    EMPTY_PG_TEMPLATE,
    PostgresServer,
    PrismaProject,
    SessionCache,
    attach_pg,
    attach_sqlite,
    clone_pg,
    copy_sqlite,
    ensure_kit,
    find_bin_dir,
    kit_major,
    make_project,
    pg_template,
    traits,
)
from lifecycle import Lifecycle, created_databases, make_lifecycle

INIT_MIGRATION = "20240101000000_init"

PRISMA_MAJORS: tuple[int | str, ...] = (6, 7)
"""The kits a `prisma_majors` test runs on unless its mark names others (6: 6.15, "6.19", 7: 7.10.1)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--prisma", choices=("6", "7", "all"), default="all",
                     help="the Prisma major(s) whose tests run: 6 (the 6.15 kit), 7 (the 7.10.1 kit) or all")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "prisma_majors(*kits): run the test once per Prisma kit (default: 6 and 7, "
                            "the 6.15 and 7.10.1 kits; \"6.19\" too; a test's own mark overrides its module's)")


def pytest_report_header(config: pytest.Config) -> str:
    """Which Node runs Prisma (scripts/test puts Node 24 with its compile cache first on PATH)."""
    node = shutil.which("node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip() \
        if node else "none"
    cache = "on" if os.environ.get("NODE_COMPILE_CACHE") else "off"
    return f"node: {version} ({node}), compile cache {cache}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("prisma_majors")
    if "prisma_kit" in metafunc.fixturenames and marker is not None:
        kits = marker.args or PRISMA_MAJORS
        metafunc.parametrize("prisma_kit", kits, ids=[f"prisma{k}" for k in kits], indirect=True,
                             scope="session")


def _test_major(item: pytest.Item) -> int | None:
    """The Prisma major a collected test runs on: its prisma_kit parameter, 6 for the default kit,
    None when it runs no Prisma."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "prisma_kit" in callspec.params:
        return int(str(callspec.params["prisma_kit"]).split(".")[0])
    return 6 if "prisma_kit" in getattr(item, "fixturenames", ()) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("--prisma")
    if wanted == "all":
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        major = _test_major(item)
        (drop if major is not None and major != int(wanted) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@dataclass(frozen=True)
class PrismaKit:
    """One installed kit: its major, node_modules, and the session's memoised real-Prisma work on it."""

    major: int
    node_modules: Path
    cache: SessionCache


_SESSION_KITS: dict[int | str, PrismaKit] = {}
"""One PrismaKit per kit for the whole session: pytest sets a parametrized session fixture up again when
its parameter changes back, and the templates a kit's cache made on the server must be found again."""


@pytest.fixture(scope="session")
def prisma_kit(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PrismaKit:
    """The Prisma kit of this test: 6.15 unless parametrized (prisma_majors), installed once per cache."""
    kit: int | str = getattr(request, "param", 6)
    if kit not in _SESSION_KITS:
        node_modules = ensure_kit(kit)
        major = kit_major(node_modules)
        assert major == int(str(kit).split(".")[0])
        cache = SessionCache(tmp_path_factory.mktemp(f"prisma{kit}-cache"), node_modules)
        _SESSION_KITS[kit] = PrismaKit(major, node_modules, cache)
    return _SESSION_KITS[kit]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def kit_node_modules(prisma_kit: PrismaKit) -> Path:
    """node_modules of the test's Prisma kit (installed once into $FABER_TEST_CACHE)."""
    return prisma_kit.node_modules


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the session (role faber / s3cret-PW-9f, superuser).

    Missing binaries fail the run when CI is set and skip it otherwise.
    """
    if find_bin_dir() is None:
        msg = (
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql)"
        )
        if _in_ci():
            pytest.fail(msg + " -- CI is set, so this is a failure, not a skip", pytrace=False)
        pytest.skip(msg)
    server = PostgresServer().start()
    try:
        pg_template(server, tmp_path_factory.mktemp("pg-empty"), ensure_kit(), [], name=EMPTY_PG_TEMPLATE)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prisma_cache(prisma_kit: PrismaKit) -> SessionCache:
    """Memoised real-Prisma work: init SQL per provider/models, deployed SQLite/PostgreSQL templates."""
    return prisma_kit.cache


@pytest.fixture(scope="session")
def sqlite_init_sql(prisma_cache: SessionCache) -> str:
    """`migrate diff --from-empty` SQL of the default User model on SQLite (computed once)."""
    return prisma_cache.init_sql("sqlite", DEFAULT_MODELS)


@pytest.fixture(scope="session")
def pg_init_sql(prisma_cache: SessionCache, pg_server: PostgresServer) -> str:
    """`migrate diff --from-empty` SQL of the default User model on PostgreSQL (computed once)."""
    return prisma_cache.init_sql("postgresql", DEFAULT_MODELS, server=pg_server)


@pytest.fixture
def sqlite_project(tmp_path: Path, kit_node_modules: Path, sqlite_init_sql: str) -> PrismaProject:
    """A Prisma project in tmp_path on SQLite: User model, migration 20240101000000_init (not yet
    deployed), database tmp_path/dev.db (not created yet), database_url = absolute file: URL."""
    project = make_project(tmp_path, "sqlite", DEFAULT_MODELS, kit_node_modules)
    project.add_migration(INIT_MIGRATION, sqlite_init_sql)
    return attach_sqlite(project, tmp_path / "dev.db")


@pytest.fixture
def pg_project(
    tmp_path: Path, kit_node_modules: Path, pg_server: PostgresServer, pg_init_sql: str
) -> Iterator[PrismaProject]:
    """Same as sqlite_project on a fresh, empty PostgreSQL database of its own (cloned from the
    session's empty template, dropped afterwards); database_url carries faber's password."""
    project = make_project(tmp_path, "postgresql", DEFAULT_MODELS, kit_node_modules)
    project.add_migration(INIT_MIGRATION, pg_init_sql)
    dbname = clone_pg(pg_server, EMPTY_PG_TEMPLATE)
    try:
        yield attach_pg(project, pg_server, dbname)
    finally:
        pg_server.drop_database(dbname)


@pytest.fixture
def sqlite_deployed_project(
    sqlite_project: PrismaProject, prisma_cache: SessionCache, sqlite_init_sql: str
) -> PrismaProject:
    """sqlite_project with its init migration already deployed (a copy of a session template)."""
    assert sqlite_project.database_path is not None
    template = prisma_cache.sqlite_template([(INIT_MIGRATION, sqlite_init_sql)])
    copy_sqlite(template, sqlite_project.database_path)
    return sqlite_project


@pytest.fixture
def pg_deployed_project(
    tmp_path: Path,
    kit_node_modules: Path,
    pg_server: PostgresServer,
    prisma_cache: SessionCache,
    pg_init_sql: str,
) -> Iterator[PrismaProject]:
    """pg_project with its init migration already deployed (cloned from a session template)."""
    template = prisma_cache.pg_template(pg_server, [(INIT_MIGRATION, pg_init_sql)])
    project = make_project(tmp_path, "postgresql", DEFAULT_MODELS, kit_node_modules)
    project.add_migration(INIT_MIGRATION, pg_init_sql)
    dbname = clone_pg(pg_server, template)
    try:
        yield attach_pg(project, pg_server, dbname)
    finally:
        pg_server.drop_database(dbname)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def lifecycle(request: pytest.FixtureRequest, tmp_path: Path, prisma_kit: PrismaKit) -> Iterator[Lifecycle]:
    """A configured project (faber-db init done) on each provider, its init migration NOT yet
    applied; dev, staging and production each on a database of their own. dev generates no Prisma
    client unless the test is marked `client_generation`."""
    project: PrismaProject = request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'pg'}_project")
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    life = make_lifecycle(project, tmp_path, server,
                          client_generation=request.node.get_closest_marker("client_generation") is not None)
    try:
        yield life
    finally:
        if server is not None:
            for name in created_databases(life):
                server.drop_database(name)


@pytest.fixture
def pg_lifecycle(pg_project: PrismaProject, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Lifecycle]:
    """The PostgreSQL side of `lifecycle` alone, for PostgreSQL-only behaviour."""
    life = make_lifecycle(pg_project, tmp_path, pg_server)
    try:
        yield life
    finally:
        for name in created_databases(life):
            pg_server.drop_database(name)


@pytest.fixture(scope="session")
def traits_template_db(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory,
                       kit_node_modules: Path) -> str:
    """The realistic database of harness.traits (extensions in public, several schemas, enums,
    functions, triggers, views, policies, grants; rows), built once with real Prisma as its
    non-superuser owner and sealed as a template."""
    return traits.traits_template(pg_server, tmp_path_factory.mktemp("traits"), kit_node_modules)


@pytest.fixture
def traits_project(tmp_path: Path, kit_node_modules: Path, pg_server: PostgresServer,
                   traits_template_db: str) -> Iterator[PrismaProject]:
    """The traits project in tmp_path/app on a clone of the traits database of its own (dropped
    afterwards); database_url connects as the owner role."""
    project = traits.traits_project(tmp_path / "app", kit_node_modules)
    dbname = traits.clone_traits(pg_server, traits_template_db)
    try:
        yield traits.attach_traits(project, pg_server, dbname)
    finally:
        pg_server.drop_database(dbname)
