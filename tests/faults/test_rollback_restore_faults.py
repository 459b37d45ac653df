"""Faults during the other guarded changes: a rollback whose down.sql fails halfway, and a restore
killed with -9 at random moments. Afterwards the database is exactly one of the states a person
expects (never a mix), the history table agrees with the schema, and the documented next step works.

Trials: FABER_FAULT_TRIALS (default 4; the full run uses 20), delays from FABER_FAULT_SEED + trial.
"""

from __future__ import annotations

import json
import os
import random
import time

import pytest
from harness import PrismaProject

from .conftest import PROVIDERS
from .helpers import Background, errcode, faber, history, init_faber, seed, snapshot, wait_until_gone

TRIALS = int(os.environ.get("FABER_FAULT_TRIALS", "4"))
SEED = int(os.environ.get("FABER_FAULT_SEED", "20241124"))

NICK_UP = 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\nUPDATE "User" SET "nick" = "email" WHERE "id" % 2 = 0;\n'
NICK_DOWN = 'ALTER TABLE "User" DROP COLUMN "nick";\n'
AUDIT_UP = 'CREATE TABLE "Audit" ("id" INTEGER NOT NULL PRIMARY KEY, "note" TEXT);\n'
# the first statement works (and drops the table), the second fails: the down script stops halfway
AUDIT_DOWN_BROKEN = 'DROP TABLE "Audit";\nDROP TABLE "NoSuchTable";\n'


def _add(project: PrismaProject, name: str, up: str, down: str) -> None:
    path = project.add_migration(name, up)
    (path.parent / "down.sql").write_text(down, "utf-8")


def _approve(project: PrismaProject, env: dict[str, str], *args: str) -> list[str]:
    code, result, _ = faber(project, env, *args, "--dry-run")
    assert code == 0, json.dumps(result, indent=1)
    return ["--approve", result["details"]["plan_id"]]


@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_a_down_script_failing_halfway_is_restored_exactly(project: PrismaProject) -> None:
    env = init_faber(project)
    seed(project)
    _add(project, "20240201000000_audit", AUDIT_UP, AUDIT_DOWN_BROKEN)
    _add(project, "20240202000000_nick", NICK_UP, NICK_DOWN)
    code, result, _ = faber(project, env, "migrate", "staging")
    assert code == 0, result
    before, history_before = snapshot(project), history(project)

    args = ["rollback", "production", "--last", "2"]
    code, result, stderr = faber(project, env, *args, *_approve(project, env, *args), "--allow-destructive")

    shown = json.dumps(result, indent=1) + "\n" + stderr[-2000:]
    assert code == 1, shown
    assert result["details"]["restored"] is True and result["details"]["rolled_back"] == [], shown
    assert [s["status"] for s in result["details"]["steps"] if s["name"].startswith("down:")] == ["ok", "failed"]
    after = snapshot(project)
    for key in before:
        assert after[key] == before[key], f"{key} differs after the restore\n{shown}"
    assert history(project) == history_before
    code, status, _ = faber(project, env, "status", "production")
    assert status["details"]["up_to_date"] is True, status


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_a_restore_killed_at_a_random_moment_leaves_one_whole_state(project: PrismaProject, trial: int) -> None:
    rng = random.Random(SEED + trial)
    env = init_faber(project)
    seed(project, users=400, posts=800)
    code, result, _ = faber(project, env, "backup", "staging")
    backup_state, backup_id = snapshot(project), result["details"]["backup"]["id"]
    _add(project, "20240202000000_nick", NICK_UP, NICK_DOWN)
    code, result, _ = faber(project, env, "migrate", "staging")
    assert code == 0, result
    current_state = snapshot(project)

    run = Background.start(project, env, "restore", "staging", "--from", backup_id)
    # the safety backup's verification, then the restore itself: a random moment after either
    run.wait_for("verifying", timeout=60)
    time.sleep(rng.uniform(0.0, 0.6))
    run.kill()
    wait_until_gone(project.root)

    after = snapshot(project)
    assert after in (current_state, backup_state), f"seed {SEED + trial}: a mix of two states"
    # the next restore (the documented recovery) works whatever the kill left
    code, result, stderr = faber(project, env, "restore", "staging", "--from", backup_id)
    assert code == 0, json.dumps(result, indent=1) + stderr[-2000:]
    assert snapshot(project) == backup_state
    assert errcode(result) is None
