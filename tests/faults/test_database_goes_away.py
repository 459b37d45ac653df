"""The PostgreSQL server goes away in the middle of a deploy (fast shutdown, and an immediate one, as
in a crash): faber-db ends with a clear error (DATABASE_UNREACHABLE, or MIGRATION_FAILED with the
reason), never a traceback; while the server is down every command says so; after the restart
`status` tells the exact state and `migrate` (after the documented restore, if one is needed)
brings the database fully up to date with every committed row intact.

This module starts a PostgreSQL server of its own: stopping the session's server would take every
other test's database with it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import PostgresServer, PrismaProject, SessionCache, attach_pg, find_bin_dir, make_project, unique_db_name

from .helpers import (
    AUDIT,
    FAULT_MODELS,
    INIT,
    LOCKS,
    Background,
    errcode,
    faber,
    finished_names,
    init_faber,
    query_rows,
    seed,
    seeded_rows,
    unfinished_names,
    wait_until_gone,
)

pytestmark = pytest.mark.postgres

NICK = 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n'
SLOW = 'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(3);\nINSERT INTO "Slow" ("n") VALUES (1);\n'
MIGRATIONS = ("20240201000000_nick", "20240202000000_slow")


class StoppableServer(PostgresServer):
    """A PostgresServer that can be stopped and started again with its data kept."""

    def halt(self, mode: str = "fast") -> None:
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"])

    def resume(self) -> None:
        self._pg_ctl_start()


@pytest.fixture(scope="module")
def own_server() -> Iterator[StoppableServer]:
    if find_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries not found")
    server = StoppableServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_project(own_server: StoppableServer, tmp_path: Path, kit_node_modules: Path,
                prisma_cache: SessionCache) -> Iterator[PrismaProject]:
    sql = prisma_cache.init_sql("postgresql", FAULT_MODELS, server=own_server)
    project = make_project(tmp_path / "app", "postgresql", FAULT_MODELS, kit_node_modules)
    project.add_migration(INIT, sql)
    name = own_server.create_database(unique_db_name())
    attach_pg(project, own_server, name)
    project.prisma("migrate", "deploy")
    try:
        yield project
    finally:
        wait_until_gone(project.root)
        try:
            own_server.drop_database(name)
        except Exception:  # the server may be down after a failed test: bring it back for the next one
            own_server.resume()
            own_server.drop_database(name)


def audit_entries(project: PrismaProject) -> list[dict[str, Any]]:
    path = project.root / AUDIT
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def shown_result(result: dict[str, Any], stderr: str) -> str:
    return json.dumps(result, indent=1) + "\n" + stderr[-2000:]


def assert_clear_failure(code: int, result: dict[str, object], stderr: str, codes: tuple[str, ...]) -> None:
    shown = json.dumps(result, indent=1) + "\n" + stderr[-2000:]
    assert code == 1, shown
    assert errcode(result) in codes, shown  # type: ignore[arg-type]
    assert "Traceback" not in json.dumps(result) + stderr, shown
    assert result["message"], shown
    assert "s3cret-PW-9f" not in json.dumps(result) + stderr


def test_server_down_before_the_deploy_changes_nothing(own_server: StoppableServer,
                                                       own_project: PrismaProject) -> None:
    project = own_project
    env = init_faber(project)
    seed(project)
    committed = seeded_rows(project)
    project.add_migration(MIGRATIONS[0], NICK)
    own_server.halt("fast")
    try:
        for args in (("migrate", "staging"), ("status", "staging"), ("migrate", "production", "--dry-run"),
                     ("backup", "staging"), ("health-check", "staging")):
            code, result, stderr = faber(project, env, *args, timeout=120)
            assert code != 0, (args, result)
            assert "Traceback" not in stderr and result["errors"], (args, result)
            if args[0] in ("migrate", "status", "backup"):
                assert errcode(result) in ("DATABASE_UNREACHABLE", "BACKUP_FAILED"), (args, result)
    finally:
        own_server.resume()
    assert not (project.root / LOCKS / "staging.journal.json").exists()
    assert finished_names(project) == [INIT]
    code, result, _ = faber(project, env, "migrate", "staging")
    assert code == 0 and result["details"]["applied"] == [MIGRATIONS[0]], result
    assert seeded_rows(project) == committed


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_server_stops_mid_deploy_then_recovers(own_server: StoppableServer, own_project: PrismaProject,
                                              mode: str) -> None:
    project = own_project
    env = init_faber(project)
    seed(project)
    committed = seeded_rows(project)
    for name, sql_text in zip(MIGRATIONS, (NICK, SLOW), strict=True):
        project.add_migration(name, sql_text)

    run = Background.start(project, env, "migrate", "staging")
    try:
        run.wait_for("verified (")
        time.sleep(1.8)  # Prisma is inside the slow migration's pg_sleep
        own_server.halt(mode)
        code, result, stderr = run.finish(timeout=180)
        assert_clear_failure(code, result, stderr, ("DATABASE_UNREACHABLE", "MIGRATION_FAILED"))
        print(f"[db away, {mode}] {errcode(result)}: {result['message']}")
        if errcode(result) == "MIGRATION_FAILED":  # the reason is there: the connection was lost
            reason = json.dumps(result["details"]).lower()
            assert any(word in reason for word in ("connection", "terminat", "shut", "reach", "closed")), reason
        # the failed attempt is in the audit trail (it changed the database: a migration went in),
        # and the result names the backup taken before it
        entries = audit_entries(project)
        assert entries and entries[-1]["operation"] == "migrate" and entries[-1]["status"] == "failure", entries
        assert entries[-1]["error"] == errcode(result) and entries[-1]["backup_id"], entries[-1]
        assert entries[-1]["backup_id"] in json.dumps(result), shown_result(result, stderr)
        # while it is down: status says so, cleanly
        code, down, stderr = faber(project, env, "status", "staging")
        assert_clear_failure(code, down, stderr, ("DATABASE_UNREACHABLE",))
    finally:
        own_server.resume()

    # after the restart: the exact state
    code, status, _ = faber(project, env, "status", "staging")
    assert code == 0, status
    finished, unfinished = finished_names(project), unfinished_names(project)
    assert sorted(status["details"]["applied"]) == finished and sorted(status["details"]["failed"]) == unfinished

    code, result, stderr = faber(project, env, "migrate", "staging")
    shown = json.dumps(result, indent=1) + "\n" + stderr[-2000:]
    print(f"[db away, {mode}] after restart: applied {finished}, failed {unfinished}; migrate: {errcode(result)}")
    if unfinished:
        assert code == 1 and errcode(result) in ("INTERRUPTED_DEPLOY", "FAILED_MIGRATION_PRESENT"), shown
        backups = faber(project, env, "backups", "staging")[1]["details"]["backups"]
        assert backups, shown
        backup_id = backups[0]["id"] if len(backups) == 1 else sorted(b["id"] for b in backups)[-1]
        if errcode(result) == "INTERRUPTED_DEPLOY":
            assert f"faber-db restore staging --from {backup_id}" in json.dumps(result), shown
        code, restored, stderr = faber(project, env, "restore", "staging", "--from", backup_id)
        assert code == 0, json.dumps(restored, indent=1) + stderr[-2000:]
        code, result, stderr = faber(project, env, "migrate", "staging")
        shown = json.dumps(result, indent=1) + "\n" + stderr[-2000:]
    assert code == 0, shown
    assert finished_names(project) == sorted([INIT, *MIGRATIONS]), shown
    assert unfinished_names(project) == []
    assert query_rows(project, 'SELECT count(*) AS n FROM "Slow"')[0]["n"] == 1
    assert seeded_rows(project) == committed
    assert not (project.root / LOCKS / "staging.journal.json").exists()
