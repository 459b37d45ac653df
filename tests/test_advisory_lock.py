"""Two clones of a project (two machines: separate folders, so separate file locks) deploying to
one PostgreSQL database: faber-db's advisory lock on the database lets only one through."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from faber import error_code, faber_argv, faber_env, parse_single_json, run_faber
from harness import migration_rows
from lifecycle import Lifecycle

SLOW = 'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(4);\n'


@pytest.mark.postgres
def test_a_second_machine_is_refused_while_the_first_deploys(pg_lifecycle: Lifecycle, tmp_path: Path) -> None:
    life = pg_lifecycle
    life.faber("migrate", "staging")
    life.project.add_migration("20990101000000_slow", SLOW)
    other = tmp_path / "other-machine"
    shutil.copytree(life.root, other, symlinks=True, ignore=shutil.ignore_patterns(".fractary"))
    assert run_faber(other, "init", env=life.env).returncode == 0

    first = subprocess.Popen([*faber_argv(), "migrate", "staging"], cwd=life.root, env=faber_env(life.env),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "applying" not in (first.stderr.readline() if first.stderr else "") and time.monotonic() < deadline:
            assert first.poll() is None, "the first deploy ended early"
        code, result, _ = run_faber(other, "migrate", "staging", env=life.env)
        assert code == 3 and error_code(result) == "DEPLOY_IN_PROGRESS", result
        assert "database lock" in result["message"]
    finally:
        stdout, _ = first.communicate(timeout=120)
    assert parse_single_json(stdout)["status"] == "success"
    names = [r["migration_name"] for r in migration_rows_url(life)]
    assert names.count("20990101000000_slow") == 1


def migration_rows_url(life: Lifecycle) -> list[dict[str, object]]:
    saved = life.project.database_url
    life.project.database_url = life.urls["STAGING_DATABASE_URL"]
    try:
        return migration_rows(life.project)
    finally:
        life.project.database_url = saved
