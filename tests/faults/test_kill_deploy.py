"""`kill -9` of a `faber-db migrate staging` at seeded random moments: during the backup, during the
apply (inside a slow migration) and during the verification after it.

After each kill:
- `faber-db status staging` reports the exact state: its applied and failed lists are the finished
  and unfinished rows of _prisma_migrations;
- `faber-db migrate staging` either continues (and applies the rest) or, when the kill left a failed
  migration row, refuses with INTERRUPTED_DEPLOY naming the backup taken before the killed deploy;
- the documented recovery (`faber-db restore staging --from <id>`, then `faber-db migrate staging`)
  leads to a fully applied database;
- every row committed before the deploy is still there (compared with a snapshot).

Trials per database: FABER_FAULT_TRIALS (default 4, which CI uses); the documented full run is
`FABER_FAULT_TRIALS=20 python3 -m pytest tests/faults -q` (20 per database, 40 in all).
Delays come from random.Random(FABER_FAULT_SEED + trial); a failing trial prints its seed.

Two kinds of kill alternate: of the faber-db process alone (its Prisma child runs in a session of its
own and is left running, as after a real `kill -9 <pid>`), and of faber-db with every process it
started (a container or CI job killed). Before the checks the test waits until no process works in
the project any more and, on PostgreSQL, until the killed Prisma's server sessions have ended.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest
from harness import PrismaProject, pg_query

from .conftest import PROVIDERS
from .helpers import (
    LOCKS,
    Background,
    descendants,
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

TRIALS = int(os.environ.get("FABER_FAULT_TRIALS", "4"))
SEED = int(os.environ.get("FABER_FAULT_SEED", "20241124"))
PHASES = ("backup", "apply", "verify")

NICK = 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\nUPDATE "User" SET "nick" = "email" WHERE "id" % 2 = 0;\n'
SQLITE_SLOW = (
    'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\n'
    'INSERT INTO "Slow" ("n") WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000) '
    "SELECT count(*) FROM c;\n"
)
PG_SLOW = 'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(1.5);\nINSERT INTO "Slow" ("n") VALUES (1);\n'
APPLY_SECONDS = {"sqlite": 1.6, "postgresql": 2.3}
USERS = int(os.environ.get("FABER_FAULT_USERS", "20000"))
INDEX = 'CREATE INDEX "User_nick_idx" ON "User"("nick");\n'
MIGRATIONS = ("20240201000000_nick", "20240202000000_slow", "20240203000000_index")


def backup_marker(provider: str) -> str:
    return "backing up" if provider == "sqlite" else "pg_dump -Fc"


def kill(run: Background, whole_tree: bool) -> bool:
    """kill -9 faber-db (and, whole_tree, every process it started); True if it was still running."""
    children = descendants(run.process.pid) if whole_tree else []
    alive = run.kill()
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return alive


def wait_for_quiet(project: PrismaProject) -> None:
    """No process left in the project folder; on PostgreSQL no other session on its database."""
    wait_until_gone(project.root)
    if project.provider != "postgresql":
        return
    assert project.database_url is not None
    deadline = time.monotonic() + 60
    while pg_query(project.database_url, "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = "
                   "current_database() AND pid <> pg_backend_pid()")[0]["n"]:
        assert time.monotonic() < deadline, "the killed Prisma's sessions never ended"
        time.sleep(0.05)


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_kill_minus_nine_then_recover(project: PrismaProject, trial: int) -> None:
    rng = random.Random(SEED * 1000 + trial * 2 + (project.provider == "postgresql"))
    phase = PHASES[trial % len(PHASES)]
    whole_tree = (trial // len(PHASES)) % 2 == 1
    label = f"trial {trial} seed {SEED} phase {phase} {'whole tree' if whole_tree else 'faber-db only'}"

    env = init_faber(project)
    seed(project, users=USERS, posts=2 * USERS)  # a backup that takes a moment
    committed = seeded_rows(project)
    slow = SQLITE_SLOW if project.provider == "sqlite" else PG_SLOW
    for name, sql_text in zip(MIGRATIONS, (NICK, slow, INDEX), strict=True):
        project.add_migration(name, sql_text)
    names = project.migration_names()

    run = Background.start(project, env, "migrate", "staging")
    if phase == "backup":  # the backup takes ~0.1-0.2 s at this size
        seen = run.wait_for(backup_marker(project.provider))
        delay = rng.uniform(0, 0.15)
    elif phase == "apply":  # Prisma starts right after the verified backup and runs ~1.5-2.5 s
        seen = run.wait_for("verified (")
        delay = rng.uniform(0.1, APPLY_SECONDS[project.provider])
    else:  # Prisma has exited: health check, verification, audit (a few ms to tens of ms)
        run.wait_for("verified (")
        seen = time.monotonic() if run.wait_child_done() else None
        delay = rng.uniform(0, 0.03)
    if seen is not None:
        time.sleep(max(0.0, seen + delay - time.monotonic()))
    was_running = kill(run, whole_tree)
    label += f", delay {delay:.3f} s, killed while running: {was_running}"
    wait_for_quiet(project)
    journal_path = project.root / LOCKS / "staging.journal.json"
    journal = json.loads(journal_path.read_text("utf-8")) if journal_path.exists() else None

    # 1. status tells exactly what the history table holds
    code, status, stderr = faber(project, env, "status", "staging")
    assert code == 0, (label, status, stderr)
    finished, unfinished = finished_names(project), unfinished_names(project)
    assert sorted(status["details"]["applied"]) == finished, (label, status)
    assert sorted(status["details"]["failed"]) == unfinished, (label, status)
    assert sorted(status["details"]["pending"]) == sorted(set(names) - set(finished) - set(unfinished)), label

    # 2. migrate continues, or names the backup to restore
    already = finished
    code, result, stderr = faber(project, env, "migrate", "staging")
    shown = f"{label}\njournal: {journal}\n{json.dumps(result, indent=1)}\n{stderr[-3000:]}"
    if unfinished:
        assert journal is not None, shown  # Prisma only runs after the journal is written
        assert code == 1 and errcode(result) == "INTERRUPTED_DEPLOY", shown
        backup_id = journal["backup_id"]
        assert backup_id, shown
        command = f"faber-db restore staging --from {backup_id}"
        assert command in json.dumps(result), shown
        assert finished_names(project) == finished and unfinished_names(project) == unfinished  # nothing changed

        # 3. the documented recovery
        code, restored, stderr = faber(project, env, "restore", "staging", "--from", backup_id)
        assert code == 0, f"{shown}\nrestore: {json.dumps(restored, indent=1)}\n{stderr[-2000:]}"
        assert unfinished_names(project) == [], shown
        already = finished_names(project)
        code, result, stderr = faber(project, env, "migrate", "staging")
        shown += f"\nafter restore: {json.dumps(result, indent=1)}\n{stderr[-3000:]}"
    assert code == 0, shown
    # it applied exactly what was left
    assert sorted(result["details"]["applied"]) == sorted(set(names) - set(already)), shown

    outcome = ("interrupted: restored, then migrated" if unfinished else
               "continued" if result["details"]["applied"] else "already complete")
    print(f"[kill -9] {project.provider} {label}; journal left: {journal is not None}; "
          f"applied at the kill: {finished}; failed rows: {unfinished}; {outcome}")
    print("".join(f"    {stamp - run.started:.3f} {line}\n" for stamp, line in run.seen))

    # 4. fully applied, nothing lost, nothing left behind
    assert finished_names(project) == names, shown
    assert unfinished_names(project) == [], shown
    assert sorted(r["migration_name"] for r in query_rows(
        project, 'SELECT migration_name FROM "_prisma_migrations"')) == names, shown  # each exactly once
    assert seeded_rows(project) == committed, shown
    assert query_rows(project, 'SELECT count(*) AS n FROM "Slow"')[0]["n"] == 1, shown
    code, status, _ = faber(project, env, "status", "staging")
    assert code == 0 and status["details"]["up_to_date"] is True, (shown, status)
    assert not journal_path.exists(), shown
