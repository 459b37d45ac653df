"""Two `faber-db migrate staging` processes on one environment: one applies, the other refuses
(DEPLOY_IN_PROGRESS) or, with safety.lock_wait_seconds, waits and then finds nothing to apply.
Never both: the history table holds each migration exactly once. Real Prisma, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from harness import PrismaProject, migration_rows, query
from test_migrate import FaberRun, faber_command, parse_run, seed_users, setup_faber

LOCK_FILE = Path(".fractary/plugins/faber-db/locks/staging.lock")
SLOW = "20240102000000_slow"
# ~2.5 s inside the migration, so the second process surely starts while the first deploys
SQLITE_SLOW = (
    'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\n'
    'INSERT INTO "Slow" ("n") WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) '
    "SELECT count(*) FROM c;\n"
)
PG_SLOW = 'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(3);\nINSERT INTO "Slow" ("n") VALUES (1);\n'


def wait_for_lock(project: PrismaProject, first: subprocess.Popen[str]) -> dict[str, object]:
    """Poll the lock file until the first process has written itself into it."""
    path = project.root / LOCK_FILE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert first.poll() is None, "the first migrate ended before it was seen holding the lock"
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            text = ""
        if text.strip():
            try:
                holder = json.loads(text)
            except ValueError:  # caught mid-write
                holder = {}
            if holder.get("pid") == first.pid:
                return holder
        time.sleep(0.02)
    raise AssertionError("the first migrate never took the lock")


def finish(process: subprocess.Popen[str]) -> FaberRun:
    stdout, stderr = process.communicate(timeout=180)
    return parse_run(process.returncode, stdout, stderr)


@pytest.mark.parametrize("mode", ["refuse", "wait"])
@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_two_deploys_never_both_apply(provider: str, mode: str, request: pytest.FixtureRequest,
                                      tmp_path: Path) -> None:
    project: PrismaProject = request.getfixturevalue(
        "sqlite_deployed_project" if provider == "sqlite" else "pg_deployed_project")
    env = setup_faber(project, tmp_path, safety={"lock_wait_seconds": 120} if mode == "wait" else None)
    seed_users(project, 20)
    project.add_migration(SLOW, SQLITE_SLOW if provider == "sqlite" else PG_SLOW)

    first = subprocess.Popen(**faber_command(project.root, "migrate", "staging", env=env))
    try:
        holder = wait_for_lock(project, first)
        assert holder["operation"] == "migrate"
        second = subprocess.Popen(**faber_command(project.root, "migrate", "staging", env=env))
        try:
            b = finish(second)
        finally:
            if second.poll() is None:
                second.kill()
        # the second ends while the first still deploys (refuse), or after it (wait)
        first_running_when_second_ended = first.poll() is None
        a = finish(first)
    finally:
        if first.poll() is None:
            first.kill()

    assert a.returncode == 0, a.result
    assert a.details["applied"] == [SLOW]
    if mode == "refuse":
        assert first_running_when_second_ended
        assert b.returncode == 3, b.result
        assert [e["code"] for e in b.result["errors"]] == ["DEPLOY_IN_PROGRESS"]
        assert f"pid {first.pid}" in b.result["errors"][0]["message"]
        assert b.details["applied"] == []
    else:
        assert b.returncode == 0, b.result
        assert b.details["applied"] == []
        assert "up to date" in b.result["message"]
        assert not any(s["name"] == "deploy_migrations" for s in b.details["steps"])

    # the history table: each migration exactly once, all finished
    rows = migration_rows(project)
    names = [r["migration_name"] for r in rows]
    assert sorted(names) == sorted(set(names)) == project.migration_names()
    assert all(r["finished_at"] is not None and r["rolled_back_at"] is None for r in rows)
    assert query(project, 'SELECT count(*) AS n FROM "Slow"')[0]["n"] == 1
    assert query(project, 'SELECT count(*) AS n FROM "User"')[0]["n"] == 20
    assert not (project.root / LOCK_FILE).read_text("utf-8").strip()  # released
