"""`faber-db status <env>` against databases real Prisma deployed to, on SQLite and PostgreSQL,
checked against what `prisma migrate status` says about the same database."""

from __future__ import annotations

import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from faber import describe, error_code, run_faber, write_config
from harness import PrismaProject, free_port, migration_rows

INIT = "20240101000000_init"
SECOND = "20240202000000_add_nickname"
SECOND_SQL = 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n'
BROKEN = "20240303000000_broken"
BROKEN_SQL = 'ALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n'

DEPLOYED = [
    pytest.param("sqlite_deployed_project", id="sqlite"),
    pytest.param("pg_deployed_project", id="postgresql", marks=pytest.mark.postgres),
]

LISTS = ("applied", "pending", "failed", "rolled_back", "modified", "missing_locally")


@pytest.fixture
def project(request: pytest.FixtureRequest) -> PrismaProject:
    deployed: PrismaProject = request.getfixturevalue(request.param)
    write_config(deployed.root, deployed.provider)
    return deployed


def status(project: PrismaProject) -> tuple[int, dict[str, Any], str]:
    return run_faber(project.root, "status", "dev", env={"DEV_DATABASE_URL": project.database_url})


def lists(result: dict[str, Any]) -> dict[str, list[str]]:
    return {key: result["details"][key] for key in LISTS}


def expected(**overrides: list[str]) -> dict[str, list[str]]:
    base: dict[str, list[str]] = {key: [] for key in LISTS}
    base.update(overrides)
    return base


def execute(project: PrismaProject, sql: str, *params: str) -> None:
    """Run one changing statement and commit it ({} marks a parameter)."""
    if project.provider == "sqlite":
        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn, conn:
            conn.execute(sql.format(*["?"] * len(params)), params)
    else:
        assert project.database_url is not None
        with psycopg.connect(project.database_url, autocommit=True) as conn:
            conn.execute(sql.format(*["%s"] * len(params)), params)


def roll_back(project: PrismaProject, name: str) -> None:
    """What `prisma migrate resolve --rolled-back <name>` does to the history table."""
    execute(project, 'UPDATE "_prisma_migrations" SET rolled_back_at = started_at WHERE migration_name = {}', name)


def prisma_status_exit(project: PrismaProject) -> int:
    return project.prisma("migrate", "status", check=False).returncode


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_up_to_date(project: PrismaProject) -> None:
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "success"
    assert result["operation"] == "status"
    assert result["environment"] == "dev"
    assert result["details"]["up_to_date"] is True
    assert result["details"]["provider"] == project.provider
    assert lists(result) == expected(applied=[INIT])
    assert result["errors"] == []


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_one_pending_agrees_with_prisma(project: PrismaProject) -> None:
    project.add_migration(SECOND, SECOND_SQL)
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "warning"
    assert result["details"]["up_to_date"] is False
    assert lists(result) == expected(applied=[INIT], pending=[SECOND])
    assert SECOND not in {r["migration_name"] for r in migration_rows(project)}, "status changes nothing"
    assert prisma_status_exit(project) == 1  # Prisma too says: not up to date


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_failed_then_rolled_back_by_prisma_resolve(project: PrismaProject) -> None:
    project.add_migration(BROKEN, BROKEN_SQL)
    deploy = project.prisma("migrate", "deploy", check=False)
    assert deploy.returncode != 0
    assert [r["finished_at"] for r in migration_rows(project) if r["migration_name"] == BROKEN] == [None]

    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "warning"
    assert result["details"]["up_to_date"] is False
    assert lists(result) == expected(applied=[INIT], failed=[BROKEN])
    assert any(BROKEN in w for w in result["warnings"])
    assert prisma_status_exit(project) == 1

    # what a user does next: `prisma migrate resolve --rolled-back` (which wants the native engine,
    # absent offline: PRISMA-OFFLINE.md), i.e. set rolled_back_at on the failed row
    roll_back(project, BROKEN)
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert lists(result) == expected(applied=[INIT], rolled_back=[BROKEN], pending=[BROKEN])
    assert result["details"]["up_to_date"] is False


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_applied_migration_edited_afterwards(project: PrismaProject) -> None:
    sql = project.migrations_dir / INIT / "migration.sql"
    sql.write_bytes(sql.read_bytes() + b"\n-- tweak after the fact\n")
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "warning"
    assert result["details"]["up_to_date"] is False
    assert lists(result) == expected(applied=[INIT], modified=[INIT])


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_whitespace_only_edit_is_still_modified(project: PrismaProject) -> None:
    """Prisma compares bytes (sha256), so must we: CRLF line endings count as an edit."""
    sql = project.migrations_dir / INIT / "migration.sql"
    sql.write_bytes(sql.read_bytes().replace(b"\n", b"\r\n"))
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["details"]["modified"] == [INIT]


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_applied_row_whose_folder_was_deleted(project: PrismaProject) -> None:
    shutil.rmtree(project.migrations_dir / INIT)
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "warning"
    assert result["details"]["up_to_date"] is False
    assert lists(result) == expected(missing_locally=[INIT])


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_rolled_back_row(project: PrismaProject) -> None:
    """rolled_back_at set on the only row, as `prisma migrate resolve --rolled-back` does."""
    roll_back(project, INIT)
    assert [r["rolled_back_at"] is not None for r in migration_rows(project)] == [True]
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["details"]["up_to_date"] is False
    assert lists(result) == expected(rolled_back=[INIT], pending=[INIT])


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_rolled_back_then_reapplied_counts_as_applied(project: PrismaProject) -> None:
    """A failed attempt that was rolled back, then a good second attempt: two rows, one applied."""
    project.add_migration(BROKEN, BROKEN_SQL)
    project.prisma("migrate", "deploy", check=False)
    roll_back(project, BROKEN)
    project.add_migration(BROKEN, 'CREATE TABLE "Fixed" ("id" INTEGER PRIMARY KEY);\n')
    project.prisma("migrate", "deploy")
    assert [r["migration_name"] for r in migration_rows(project)].count(BROKEN) == 2
    code, result, stderr = status(project)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "success", describe(result, stderr)
    assert result["details"]["up_to_date"] is True
    assert result["details"]["applied"] == [INIT, BROKEN]
    assert result["details"]["failed"] == [] and result["details"]["pending"] == []
    assert prisma_status_exit(project) == 0


def test_sqlite_database_file_absent(sqlite_project: PrismaProject) -> None:
    """Nothing deployed yet: the init migration is pending, and status creates no database file."""
    write_config(sqlite_project.root, "sqlite")
    code, result, stderr = status(sqlite_project)
    assert code == 0, describe(result, stderr)
    assert result["details"]["pending"] == [INIT]
    assert result["details"]["up_to_date"] is False
    assert sqlite_project.database_path is not None and not sqlite_project.database_path.exists()


def test_unreachable_postgres(tmp_path: Path) -> None:
    """A URL to a closed port: exit 1, DATABASE_UNREACHABLE, quickly, no traceback, no password."""
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text(
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n')
    write_config(tmp_path, "postgresql")
    url = f"postgresql://faber:Closed-Port-Pw1@127.0.0.1:{free_port()}/app"
    started = time.monotonic()
    code, result, stderr = run_faber(tmp_path, "status", "dev", env={"DEV_DATABASE_URL": url})
    elapsed = time.monotonic() - started
    assert code == 1, describe(result, stderr)
    assert error_code(result) == "DATABASE_UNREACHABLE"
    assert result["errors"][0]["hint"]
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert "Closed-Port-Pw1" not in str(result) + stderr
