"""Drift, health checks and the destructive-change gate on real databases (issue: safety and health)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from faber import error_code, run_faber
from harness import PostgresServer, PrismaProject
from lifecycle import Lifecycle
from test_rollback_restore import _write


def test_a_hand_made_column_is_drift_until_dropped(lifecycle: Lifecycle) -> None:
    lifecycle.faber("migrate", "dev")
    clean = lifecycle.faber("status", "dev", "--drift")
    assert clean["details"]["drift"] == [] and clean["status"] == "success"

    _write(lifecycle, "dev", 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT')
    drifted = lifecycle.faber("status", "dev", "--drift", expect=1)  # a gate CI can fail on
    assert drifted["status"] == "failure" and error_code(drifted) == "DRIFT_DETECTED"
    assert [(d["object"], d["table"], d["name"]) for d in drifted["details"]["drift"]] == [
        ("column", "User", "nickname")]
    assert "User.nickname" in drifted["message"]
    health = lifecycle.faber("health-check", "dev")
    assert health["details"]["level"] == "degraded"
    schema = next(c for c in health["details"]["checks"] if c["name"] == "schema")
    assert schema["status"] == "warn" and "nickname" in schema["message"]

    _write(lifecycle, "dev", 'ALTER TABLE "User" DROP COLUMN "nickname"')
    assert lifecycle.faber("status", "dev", "--drift")["details"]["drift"] == []
    assert lifecycle.faber("health-check", "dev")["details"]["level"] == "healthy"


def test_a_hand_made_index_and_table_are_named(lifecycle: Lifecycle) -> None:
    lifecycle.faber("migrate", "dev")
    _write(lifecycle, "dev", 'CREATE INDEX "User_name_idx" ON "User"("name")')
    _write(lifecycle, "dev", 'CREATE TABLE "scratch" ("id" INTEGER PRIMARY KEY)')
    drift = lifecycle.faber("status", "dev", "--drift", expect=1)["details"]["drift"]
    named = {(d["object"], d["name"]) for d in drift}
    assert ("index", "User_name_idx") in named and ("table", "scratch") in named


@pytest.mark.postgres
def test_a_stopped_server_is_unhealthy_fast(pg_project: PrismaProject, tmp_path: Path) -> None:
    server = PostgresServer().start()  # a server of this test's own, stopped before the check
    try:
        server.create_database("app")
        url = server.url("app")
    finally:
        server.stop()
    env: dict[str, str | None] = {"DEV_DATABASE_URL": url}
    assert run_faber(pg_project.root, "init", env=env).returncode == 0
    start = time.monotonic()
    code, result, stderr = run_faber(pg_project.root, "health-check", "dev", "--timeout", "3", env=env)
    elapsed = time.monotonic() - start
    assert code == 1 and result["details"]["level"] == "unhealthy"
    connectivity = result["details"]["checks"][0]
    assert connectivity["name"] == "connectivity" and connectivity["status"] == "fail"
    assert error_code(result) == "DATABASE_UNREACHABLE"
    assert elapsed < 3 + 2, f"took {elapsed:.1f} s with a 3 s timeout"
    assert "Traceback" not in result["message"] + stderr


@pytest.mark.postgres
def test_drop_column_on_1234_rows_needs_explicit_approval_on_postgres(pg_lifecycle: Lifecycle) -> None:
    """(SQLite: test_migrate.py)"""
    lifecycle = pg_lifecycle
    plan = lifecycle.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    lifecycle.faber("migrate", "production", "--approve", plan)
    _write(lifecycle, "production", "INSERT INTO \"User\" (email, name) SELECT 'u' || g || '@x', 'n' "
                                    "FROM generate_series(1, 1234) g")
    lifecycle.project.add_migration("20990101000000_drop_name", 'ALTER TABLE "User" DROP COLUMN "name";\n')
    dry = lifecycle.faber("migrate", "production", "--dry-run")
    findings = dry["details"]["plan"]["findings"]
    drop = next(f for f in findings if f["kind"] == "drop_column")
    assert drop["rows"] == 1234 and drop["table"] == "User" and drop["severity"] == "high"
    refused = lifecycle.faber("migrate", "production", "--approve", dry["details"]["plan"]["plan_id"], expect=3)
    assert error_code(refused) == "DESTRUCTIVE_CHANGE"
    assert len(lifecycle.rows('SELECT "name" FROM "User"', "production")) == 1234  # still there


@pytest.mark.postgres
def test_create_index_without_concurrently_is_flagged_with_the_lint_rule(pg_lifecycle: Lifecycle) -> None:
    lifecycle = pg_lifecycle
    lifecycle.faber("migrate", "dev")
    lifecycle.project.add_migration("20990101000000_index", 'CREATE INDEX "User_name_idx" ON "User"("name");\n')
    findings = lifecycle.faber("migrate", "dev", "--dry-run")["details"]["plan"]["findings"]
    rules = {f["rule"] for f in findings if f["kind"] == "lock_risk"}
    assert "require-concurrent-index-creation" in rules, findings


def test_a_protected_deploy_onto_a_drifted_database_needs_that_named(lifecycle: Lifecycle) -> None:
    """The production plan checks the live schema against its history; drift must be acknowledged."""
    life = lifecycle
    plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    life.faber("migrate", "production", "--approve", plan)
    _write(life, "production", 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT')
    life.project.add_migration("20990101000000_tag", 'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY);\n')
    dry = life.faber("migrate", "production", "--dry-run")
    assert [(d["object"], d["name"]) for d in dry["details"]["drift"]] == [("column", "nickname")]
    plan = dry["details"]["plan"]["plan_id"]
    refused = life.faber("migrate", "production", "--approve", plan, expect=3)
    assert error_code(refused) == "CONFIRMATION_REQUIRED" and "--allow-drift" in refused["message"]
    assert "nickname" in refused["message"]
    done = life.faber("migrate", "production", "--approve", plan, "--allow-drift")
    assert done["details"]["applied"] == ["20990101000000_tag"]
