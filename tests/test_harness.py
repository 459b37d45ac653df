"""The harness runs REAL Prisma 6.15 (offline, driver-adapter mode) on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest
from harness import (
    FABER_PASSWORD,
    MIGRATION_LOCK_TEXT,
    PostgresServer,
    PrismaProject,
    ensure_kit,
    migration_checksum,
    migration_rows,
    query,
)

PROVIDERS = [
    pytest.param("sqlite_project", id="sqlite"),
    pytest.param("pg_project", id="postgresql", marks=pytest.mark.postgres),
]
DEPLOYED = [
    pytest.param("sqlite_deployed_project", id="sqlite"),
    pytest.param("pg_deployed_project", id="postgresql", marks=pytest.mark.postgres),
]

SECOND_MIGRATION = 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n'


@pytest.fixture
def project(request: pytest.FixtureRequest) -> PrismaProject:
    fixture: PrismaProject = request.getfixturevalue(request.param)
    return fixture


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_fixture_layout(project: PrismaProject) -> None:
    root = project.root
    assert (root / "node_modules").is_symlink()
    assert (root / "node_modules" / "prisma" / "build" / "index.js").is_file()
    assert (root / "prisma.config.ts").is_file()
    schema = project.schema_path.read_text()
    assert 'url      = env("DATABASE_URL")' in schema
    assert f'provider = "{project.provider}"' in schema
    assert project.migration_names() == ["20240101000000_init"]
    lock = project.migrations_dir / "migration_lock.toml"
    assert lock.read_text() == MIGRATION_LOCK_TEXT.format(provider=project.provider)
    sql = (project.migrations_dir / "20240101000000_init" / "migration.sql").read_text()
    # PostgreSQL: 6.15 writes `CREATE SCHEMA IF NOT EXISTS "public";` and `CREATE TABLE "public"."User"`
    assert 'CREATE TABLE "User"' in sql or 'CREATE TABLE "public"."User"' in sql
    assert project.database_url is not None
    if project.provider == "sqlite":
        assert project.database_path == root / "dev.db"
        assert project.database_url == f"file:{root / 'dev.db'}"
        assert not (root / "dev.db").exists()
    else:
        assert project.database_url.startswith(f"postgresql://faber:{FABER_PASSWORD}@127.0.0.1:")


@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_deploy_status_and_pending(project: PrismaProject) -> None:
    migration_sql = project.migrations_dir / "20240101000000_init" / "migration.sql"

    deploy = project.prisma("migrate", "deploy", check=False)
    assert deploy.returncode == 0, deploy.stderr

    rows = migration_rows(project)
    assert len(rows) == 1
    row = rows[0]
    assert row["migration_name"] == "20240101000000_init"
    assert row["checksum"] == _sha256(migration_sql) == migration_checksum(migration_sql)
    assert row["finished_at"] is not None
    assert row["rolled_back_at"] is None
    assert row["applied_steps_count"] == 1
    assert query(project, 'SELECT count(*) AS n FROM "User"')[0]["n"] == 0

    status = project.prisma("migrate", "status", check=False)
    assert status.returncode == 0, status.stdout + status.stderr

    project.add_migration("20240102000000_nickname", SECOND_MIGRATION)
    pending = project.prisma("migrate", "status", check=False)
    assert pending.returncode == 1, pending.stdout + pending.stderr
    assert "20240102000000_nickname" in pending.stdout + pending.stderr


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_deployed_fixture_is_up_to_date(project: PrismaProject) -> None:
    rows = migration_rows(project)
    assert [r["migration_name"] for r in rows] == ["20240101000000_init"]
    assert rows[0]["checksum"] == migration_checksum(
        project.migrations_dir / "20240101000000_init" / "migration.sql"
    )
    status = project.prisma("migrate", "status", check=False)
    assert status.returncode == 0, status.stdout + status.stderr

    # a second migration deploys on top of the copied template
    project.add_migration("20240102000000_nickname", SECOND_MIGRATION)
    project.prisma("migrate", "deploy")
    assert [r["migration_name"] for r in migration_rows(project)] == [
        "20240101000000_init",
        "20240102000000_nickname",
    ]


@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_checksum_is_sha256_of_raw_bytes(project: PrismaProject) -> None:
    """CRLF line endings, a BOM-less non-ASCII comment and no final newline: still sha256(bytes)."""
    raw = b'-- caf\xc3\xa9 \xe2\x9c\x93\r\nCREATE TABLE "Crlf" ("id" INTEGER NOT NULL PRIMARY KEY);\r\n-- end'
    path = project.add_migration("20240102000000_crlf", raw)
    assert path.read_bytes() == raw
    project.prisma("migrate", "deploy")
    rows = {r["migration_name"]: r for r in migration_rows(project)}
    assert rows["20240102000000_crlf"]["checksum"] == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_edited_applied_migration_keeps_status_zero(project: PrismaProject) -> None:
    """migrate status does not compare checksums of applied migrations (exit 0 after an edit)."""
    path = project.migrations_dir / "20240101000000_init" / "migration.sql"
    path.write_text(path.read_text() + "-- edited after apply\n")
    status = project.prisma("migrate", "status", check=False)
    assert status.returncode == 0, status.stdout + status.stderr


def test_failing_migration_sqlite(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    project.add_migration(
        "20240102000000_broken", "CREATE TABLE broken (id INTEGER);\nSELECT * FROM missing_table;\n"
    )
    deploy = project.prisma("migrate", "deploy", check=False)
    assert deploy.returncode == 1
    rows = {r["migration_name"]: r for r in migration_rows(project)}
    assert rows["20240102000000_broken"]["finished_at"] is None
    assert rows["20240102000000_broken"]["logs"]
    assert project.prisma("migrate", "status", check=False).returncode == 1


def test_ensure_kit_is_idempotent(kit_node_modules: Path) -> None:
    assert ensure_kit() == kit_node_modules
    assert kit_node_modules.parent.name.startswith("kit-")


@pytest.mark.postgres
def test_pg_password_is_enforced(pg_server: PostgresServer, pg_project: PrismaProject) -> None:
    assert pg_project.database_name is not None
    with psycopg.connect(pg_project.database_url or "") as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("faber",)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg_server.url(pg_project.database_name, password="wrong")).close()


@pytest.mark.postgres
def test_pg_create_from_template_and_drop(
    pg_server: PostgresServer, pg_deployed_project: PrismaProject
) -> None:
    name = pg_deployed_project.database_name
    assert name is not None
    pg_server.create_database("copy_of_deployed", template=name)
    try:
        rows = query(pg_deployed_project, "SELECT 1 AS one")
        assert rows == [{"one": 1}]
        with pg_server.connect("copy_of_deployed") as conn:
            assert conn.execute('SELECT count(*) FROM "_prisma_migrations"').fetchone() == (1,)
    finally:
        pg_server.drop_database("copy_of_deployed")
    assert not pg_server.database_exists("copy_of_deployed")


@pytest.mark.postgres
def test_pg_restart_keeps_port_and_data(
    pg_server: PostgresServer, pg_deployed_project: PrismaProject
) -> None:
    port = pg_server.port
    pg_server.restart()
    assert pg_server.port == port
    assert [r["migration_name"] for r in migration_rows(pg_deployed_project)] == ["20240101000000_init"]
