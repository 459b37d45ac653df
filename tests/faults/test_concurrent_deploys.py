"""Two and five `faber-db migrate staging` started at once on one environment: exactly one applies;
every other one is refused (DEPLOY_IN_PROGRESS, exit 3) or, started after it, finds nothing to apply.
The history table holds each migration exactly once and no committed row is lost."""

from __future__ import annotations

import json
import threading

import pytest
from harness import PrismaProject

from .conftest import PROVIDERS
from .helpers import Background, errcode, finished_names, history, init_faber, query_rows, seed, seeded_rows

SQLITE_SLOW = (
    'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\n'
    'INSERT INTO "Slow" ("n") WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) '
    "SELECT count(*) FROM c;\n"
)
PG_SLOW = 'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(1.5);\nINSERT INTO "Slow" ("n") VALUES (1);\n'
NICK = 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n'


@pytest.mark.parametrize("count", [2, 5])
@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_concurrent_deploys_apply_exactly_once(project: PrismaProject, count: int) -> None:
    env = init_faber(project)
    seed(project)
    rows_before = seeded_rows(project)
    project.add_migration("20240201000000_nick", NICK)
    project.add_migration("20240202000000_slow", SQLITE_SLOW if project.provider == "sqlite" else PG_SLOW)
    names = project.migration_names()

    gate = threading.Barrier(count)
    runs: list[Background] = []
    lock = threading.Lock()

    def launch() -> None:
        gate.wait()
        run = Background.start(project, env, "migrate", "staging")
        with lock:
            runs.append(run)

    threads = [threading.Thread(target=launch) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [run.finish() for run in runs]

    shown = "\n".join(json.dumps({"exit": c, "code": errcode(r), "applied": r["details"].get("applied"),
                                  "message": r["message"]}) for c, r, _ in results)
    appliers = [r for c, r, _ in results if c == 0 and r["details"].get("applied")]
    assert len(appliers) == 1, shown
    assert appliers[0]["details"]["applied"] == names[1:], shown
    for code, result, _ in results:
        if result is appliers[0]:
            continue
        if code == 3:
            assert errcode(result) == "DEPLOY_IN_PROGRESS", shown
        else:
            assert code == 0 and result["details"]["applied"] == [] and "up to date" in result["message"], shown
    assert any(errcode(r) == "DEPLOY_IN_PROGRESS" for _, r, _ in results), shown  # they did overlap

    rows = history(project)
    assert sorted(r["migration_name"] for r in rows) == names  # each exactly once
    assert finished_names(project) == names
    assert query_rows(project, 'SELECT count(*) AS n FROM "Slow"')[0]["n"] == 1
    assert seeded_rows(project) == rows_before
    assert not (project.root / ".fractary/plugins/faber-db/locks/staging.journal.json").exists()
