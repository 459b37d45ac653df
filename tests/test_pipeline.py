"""The guarded pipeline's promises, attacked: a protected database changes only by the plan a person
approved, with a verified backup first, and everything that happened is in an audit trail that shows
tampering. Real Prisma, real SQLite and PostgreSQL, the real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import tomllib
from faber import error_code, faber_argv, faber_env, parse_single_json, run_faber
from faber_db.audit import record_hash
from lifecycle import CONFIG, VARIABLES, Lifecycle

AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")
ADD_TAG = 'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);\n'
LEGACY = 'CREATE TABLE "Legacy" ("id" INTEGER NOT NULL PRIMARY KEY, "note" TEXT);\n'
DROP_LEGACY = 'DROP TABLE "Legacy";\n'


def _deployed(life: Lifecycle, *environments: str) -> None:
    for environment in environments:
        if environment == "production":
            plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
            life.faber("migrate", "production", "--approve", plan)
        else:
            life.faber("migrate", environment)


def _edit_config(life: Lifecycle, change: dict[str, Any]) -> None:
    path = life.root / CONFIG
    data = tomllib.loads(path.read_text("utf-8"))
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        table = data
        for part in parents:
            table = table.setdefault(part, {})
        table[key] = value
    path.write_text(tomli_w.dumps(data), "utf-8")


def _execute(life: Lifecycle, environment: str, sql: str) -> None:
    url = life.urls[VARIABLES[environment]]
    if url.startswith("file:"):
        import sqlite3

        with sqlite3.connect(url[len("file:"):]) as conn:
            conn.executescript(f"BEGIN;\n{sql}\nCOMMIT;")  # one commit, not one per INSERT
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _count(life: Lifecycle, environment: str, table: str) -> int:
    return int(life.rows(f'SELECT count(*) AS n FROM "{table}"', environment)[0]["n"])


def _audit(life: Lifecycle) -> list[dict[str, Any]]:
    path = life.root / AUDIT
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.is_file() else []


def _history(life: Lifecycle, environment: str) -> list[str]:
    """The migrations the environment's history table records as applied (none: no table yet)."""
    try:
        rows = life.rows('SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" '
                         "ORDER BY started_at, migration_name", environment)
    except Exception as exc:  # no history table yet
        if "_prisma_migrations" not in str(exc):
            raise
        return []
    return [str(r["migration_name"]) for r in rows if r["finished_at"] is not None and r["rolled_back_at"] is None]


def _wrapper(life: Lifecycle, body: str) -> None:
    """prisma.command = a script that runs `body` (bash) just before `migrate deploy`, then the real Prisma."""
    script = life.root / "prisma-wrapper.sh"
    node = shutil.which("node") or "node"
    script.write_text("#!/bin/bash\n"
                      'if [ "$1 $2" = "migrate deploy" ]; then\n' + body + "\nfi\n"
                      f'exec {node} {life.project.cli} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    _edit_config(life, {"prisma.command": [str(script)]})


# --- apply exactly the approved bytes ---------------------------------------------------------------


@pytest.mark.parametrize("attack", ["edit", "add"])
def test_sql_changed_while_the_deploy_starts_is_undone(lifecycle: Lifecycle, attack: str) -> None:
    """A migration edited (or a new one added) after the approval, just before Prisma reads the folder:
    Prisma applies it, faber-db sees bytes it did not approve, restores the backup: User keeps its rows."""
    life = lifecycle
    _deployed(life, "production")
    _execute(life, "production", "".join(f"INSERT INTO \"User\" (email) VALUES ('u{i}@example.com');"
                                         for i in range(100)))
    migration = life.project.add_migration("20990101000000_tag", ADD_TAG)
    plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    evil = life.project.migrations_dir / "20990102000000_evil" / "migration.sql"
    _wrapper(life, f"printf 'DROP TABLE \"User\";\\n' >> {migration}" if attack == "edit" else
             f"mkdir -p {evil.parent} && printf 'DROP TABLE \"User\";\\n' > {evil}")

    result = life.faber("migrate", "production", "--approve", plan, expect=3)

    assert error_code(result) == "PLAN_CHANGED", result
    assert result["details"]["restored"] is True and result["details"]["restore_verified"] is True
    assert _count(life, "production", "User") == 100
    assert "20990101000000_tag" not in _history(life, "production")
    last = _audit(life)[-1]
    assert last["error"] == "PLAN_CHANGED" and last["restored"] is True and last["plan_id"] == plan


# --- the plan id binds what the person saw ------------------------------------------------------------


def test_rows_growing_in_a_dropped_table_change_the_plan(lifecycle: Lifecycle) -> None:
    life = lifecycle
    life.project.add_migration("20990101000000_legacy", LEGACY)
    _deployed(life, "production")
    life.project.add_migration("20990102000000_drop_legacy", DROP_LEGACY)
    dry = life.faber("migrate", "production", "--dry-run")
    (finding,) = [f for f in dry["details"]["plan"]["findings"] if f["kind"] == "drop_table"]
    assert finding["rows"] == 0
    _execute(life, "production", "".join(f"INSERT INTO \"Legacy\" (id, note) VALUES ({i}, 'n{i}');"
                                         for i in range(1, 5001)))

    refused = life.faber("migrate", "production", "--approve", dry["details"]["plan"]["plan_id"],
                         "--allow-destructive", expect=3)

    assert error_code(refused) == "PLAN_CHANGED"
    assert "destructive" in refused["message"]
    assert _count(life, "production", "Legacy") == 5000


@pytest.mark.parametrize("weakening", [{"environments.production.backup": "optional"},
                                       {"environments.production.health_checks": False},
                                       {"safety.max_auto_rollback_attempts": 0}])
def test_weakening_the_config_after_the_dry_run_changes_the_plan(lifecycle: Lifecycle,
                                                                 weakening: dict[str, Any]) -> None:
    life = lifecycle
    plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    _edit_config(life, weakening)
    refused = life.faber("migrate", "production", "--approve", plan, expect=3)
    assert error_code(refused) == "PLAN_CHANGED"
    assert "environment config" in refused["message"]
    assert _history(life, "production") == []


def test_no_state_file_can_unprotect_an_environment(lifecycle: Lifecycle) -> None:
    """Whatever file under faber-db's state folders says `protected = false`, the config file decides."""
    life = lifecycle
    life.faber("migrate", "production", "--dry-run")
    life.faber("status", "production")
    state = Path(faber_env(life.env)["CLAUDE_PLUGIN_DATA"])
    flipped = 0
    for folder in (state, life.root / ".fractary"):
        for path in folder.rglob("*"):
            if not path.is_file() or path == life.root / CONFIG:
                continue
            try:
                text = path.read_text("utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            changed = text.replace('"protected": true', '"protected": false').replace("protected = true",
                                                                                     "protected = false")
            if changed != text:
                path.write_text(changed, "utf-8")
                flipped += 1
    assert flipped, "a plan record at least holds the protection flag"
    refused = life.faber("migrate", "production", expect=3)
    assert error_code(refused) == "APPROVAL_REQUIRED"
    assert _history(life, "production") == []


# --- one lock for every change -------------------------------------------------------------------------


def _start(life: Lifecycle, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*faber_argv(), *args], cwd=life.root, env=faber_env(life.env), text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stop_while_holding_the_lock(life: Lifecycle, process: subprocess.Popen[str], environment: str,
                                 operation: str) -> bool:
    """SIGSTOP the process once its lock file names it: then it holds the lock for as long as we like."""
    lock = life.root / ".fractary/plugins/faber-db/locks" / f"{environment}.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            holder = json.loads(lock.read_text("utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        if holder.get("operation") == operation and holder.get("pid") == process.pid:
            os.kill(process.pid, signal.SIGSTOP)
            return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("operation", ["rollback", "restore"])
def test_rollback_and_restore_hold_the_environment_lock(lifecycle: Lifecycle, operation: str) -> None:
    life = lifecycle
    _deployed(life, "staging")
    _execute(life, "staging", "".join(f"INSERT INTO \"User\" (email) VALUES ('u{i}@x');" for i in range(2000)))
    backup = life.faber("backup", "staging")["details"]["backup"]["id"]
    life.project.add_migration("20990101000000_tag", ADD_TAG)
    (life.project.migrations_dir / "20990101000000_tag" / "down.sql").write_text('DROP TABLE "Tag";\n')
    life.faber("migrate", "staging")
    args = ["rollback", "staging"] if operation == "rollback" else ["restore", "staging", "--from", backup]
    for _attempt in range(5):
        process = _start(life, *args)
        held = _stop_while_holding_the_lock(life, process, "staging", operation)
        try:
            if held:
                code, result, _ = run_faber(life.root, "migrate", "staging", env=life.env)
                assert code == 3 and error_code(result) == "DEPLOY_IN_PROGRESS", result
                assert operation in result["message"]
        finally:
            if held:
                os.kill(process.pid, signal.SIGCONT)
            stdout, _ = process.communicate(timeout=120)
        assert parse_single_json(stdout)["status"] in ("success", "warning"), stdout
        if held:
            break
        life.faber("migrate", "staging")  # it finished before we caught it: again
    else:
        pytest.fail(f"{operation} never held the lock long enough to be seen")
    assert [e.get("error") for e in _audit(life) if e.get("operation") == "migrate"][-1] == "DEPLOY_IN_PROGRESS"


def test_refused_rollback_and_restore_are_audited(lifecycle: Lifecycle) -> None:
    life = lifecycle
    _deployed(life, "production")
    backup = life.faber("backup", "production")["details"]["backup"]["id"]
    life.faber("rollback", "production", expect=3)
    life.faber("restore", "production", "--from", backup, expect=3)
    life.faber("db-create", "production")  # exists already: nothing to do, nothing to audit
    refusals = [(e["operation"], e.get("outcome"), e.get("error")) for e in _audit(life)][-2:]
    assert refusals == [("rollback", "refused", "APPROVAL_REQUIRED"), ("restore", "refused", "APPROVAL_REQUIRED")]


@pytest.mark.postgres
def test_db_create_is_guarded_and_audited(pg_lifecycle: Lifecycle, pg_server: Any) -> None:
    life = pg_lifecycle
    url = life.urls["PROD_DATABASE_URL"]
    name = url.rsplit("/", 1)[-1]
    pg_server.drop_database(name)
    refused = life.faber("db-create", "production", expect=3)
    assert error_code(refused) == "APPROVAL_REQUIRED"
    dry = life.faber("db-create", "production", "--dry-run")
    assert "would be created" in dry["message"]
    done = life.faber("db-create", "production", "--approve", dry["details"]["plan_id"])
    assert done["details"]["created"] is True
    assert [(e["operation"], e["outcome"]) for e in _audit(life)][-2:] == [("db-create", "refused"),
                                                                           ("db-create", "applied")]


# --- previews that tell the truth ------------------------------------------------------------------------


def test_a_rollback_that_restores_an_older_backup_says_what_it_undoes(lifecycle: Lifecycle) -> None:
    """No down.sql anywhere, and the only backup predates every migration: the preview says the restore
    undoes all of them and removes the live rows, and the apply needs that backup named."""
    life = lifecycle
    life.faber("db-create", "staging")
    life.faber("backup", "staging")  # before any migration
    life.project.add_migration("20990101000000_tag", ADD_TAG)
    life.project.add_migration("20990102000000_legacy", LEGACY)
    life.faber("migrate", "staging")
    _execute(life, "staging", "".join(f"INSERT INTO \"User\" (email) VALUES ('u{i}@x');" for i in range(40)))
    applied = _history(life, "staging")
    assert len(applied) == 3

    dry = life.faber("rollback", "staging", "--last", "1", "--dry-run")
    details = dry["details"]
    backup = details["alternative"]["backup_id"]
    empty = [b["id"] for b in life.faber("backups", "staging")["details"]["backups"] if b["migrations"] == []]
    assert details["strategy"] == "restore" and backup == empty[0]  # the newest from before every migration
    assert details["undoes"] == list(reversed(applied))
    lost = {x["table"]: x for x in details["live_rows_lost"]}
    assert lost["User"]["live_rows"] == 40 and lost["User"]["backup_rows"] is None
    assert any("--restore-backup" in w and "3 migrations, not 1" in w for w in dry["warnings"]), dry["warnings"]

    refused = life.faber("rollback", "staging", "--last", "1", expect=3)
    assert error_code(refused) == "CONFIRMATION_REQUIRED"
    assert _history(life, "staging") == applied

    done = life.faber("rollback", "staging", "--last", "1", "--restore-backup", backup)
    assert done["details"]["strategy"] == "restore" and done["details"]["rolled_back"] == list(reversed(applied))
    assert _history(life, "staging") == []
    assert life.faber("status", "staging")["details"]["pending"] == applied


def test_a_restore_preview_names_the_live_rows_it_removes(lifecycle: Lifecycle) -> None:
    life = lifecycle
    _deployed(life, "staging")
    backup = life.faber("backup", "staging")["details"]["backup"]["id"]
    _execute(life, "staging", "".join(f"INSERT INTO \"User\" (email) VALUES ('u{i}@x');" for i in range(25)))
    dry = life.faber("restore", "staging", "--from", backup, "--dry-run")
    assert dry["details"]["live_rows_removed"] == 25
    assert any("removes the 25 live rows" in d for d in dry["details"]["differences"]), dry["details"]
    assert not any("missing" in d for d in dry["details"]["differences"])


# --- Ctrl-C, SIGTERM -----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_cancelled_deploy_is_restored_and_audited(pg_lifecycle: Lifecycle, signum: int) -> None:
    life = pg_lifecycle
    _deployed(life, "staging")
    _execute(life, "staging", "".join(f"INSERT INTO \"User\" (email) VALUES ('u{i}@x');" for i in range(30)))
    life.project.add_migration("20990101000000_slow",
                               'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(30);\n')
    process = _start(life, "migrate", "staging", "--backup")
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while "applying" not in process.stderr.readline() and time.monotonic() < deadline:
        assert process.poll() is None, "the deploy ended early"
    process.send_signal(signum)
    stdout, _ = process.communicate(timeout=120)
    result = parse_single_json(stdout)
    assert process.returncode == 3 and error_code(result) == "CANCELLED", (result, process.stderr.read())
    assert result["details"]["restored"] is True, json.dumps(result, indent=1)
    assert _count(life, "staging", "User") == 30
    assert "20990101000000_slow" not in _history(life, "staging")
    last = _audit(life)[-1]
    assert last["outcome"] == "cancelled" and last["restored"] is True


# --- the FABER release phase ------------------------------------------------------------------------------


def test_faber_release_under_an_agent_needs_the_persons_proof(lifecycle: Lifecycle) -> None:
    life = lifecycle
    agent = {**life.env, "CLAUDECODE": "1"}
    waiting = run_faber(life.root, "faber", "release", env=agent)
    assert waiting.returncode == 3, waiting
    plan = waiting.json["suggested_fixes"][0].rsplit(" ", 1)[-1]
    refused = run_faber(life.root, "faber", "release", "--approve", plan, env=agent)
    assert refused.returncode == 3 and error_code(refused.json) == "APPROVAL_REQUIRED", refused
    assert _history(life, "production") == []
    token = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from faber_db import proof; "
                            "print(proof.mint(plan_id=sys.argv[1], environment='production', "
                            "project_root=Path(sys.argv[2])))", plan, str(life.root)],
                           capture_output=True, text=True, check=True).stdout.strip()
    approved = run_faber(life.root, "faber", "release", "--approve", plan,
                         env={**agent, "FABER_DB_APPROVAL": token})
    assert approved.returncode == 0, approved
    assert _history(life, "production") == life.project.migration_names()
    life.project.add_migration("20990101000000_tag", ADD_TAG)
    replay = run_faber(life.root, "migrate", "production", "--approve", plan, env={**agent, "FABER_DB_APPROVAL": token})
    assert replay.returncode == 3, replay
    assert [e["outcome"] for e in _audit(life) if e["environment"] == "production"] == [
        "refused", "refused", "applied", "refused"]


# --- the audit trail -------------------------------------------------------------------------------------


def _some_history(life: Lifecycle) -> Path:
    life.faber("migrate", "dev")
    life.faber("backup", "dev")
    life.faber("migrate", "production", expect=3)
    life.faber("migrate", "production", "--dry-run")
    life.faber("migrate", "staging")
    assert life.faber("audit", "--verify")["details"]["verified"] is True
    return life.root / AUDIT


TAMPERS = ("truncate", "empty", "delete", "forge", "reorder", "replay", "rechain", "rechain_shorter")


def _rechained(records: list[dict[str, Any]]) -> str:
    """The records with seq, prev and hash recomputed as faber-db would: a chain that is whole in itself."""
    out: list[str] = []
    prev = records[0]["prev"]
    for seq, record in enumerate(records, start=records[0]["seq"]):
        record = {**record, "seq": seq, "prev": prev}
        record["hash"] = record_hash(record)
        prev = record["hash"]
        out.append(json.dumps(record, sort_keys=True))
    return "\n".join(out) + "\n"


def _tampered(lines: list[str], tamper: str) -> str | None:
    """The audit file's text after the tamper (None: the file is deleted)."""
    if tamper == "truncate":
        return "\n".join(lines[:-1]) + "\n"
    if tamper == "empty":
        return ""
    if tamper == "delete":
        return None
    if tamper == "reorder":  # two lines swapped
        return "\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + "\n"
    if tamper == "replay":  # a line appended again
        return "\n".join([*lines, lines[1]]) + "\n"
    records = [json.loads(line) for line in lines]
    if tamper == "rechain":  # one line's outcome changed, every hash after it recomputed
        records[1] = {**records[1], "status": "success", "message": "Applied 0 migration(s) to production"}
        return _rechained(records)
    if tamper == "rechain_shorter":  # a line removed, the rest renumbered and rehashed
        return _rechained([records[0], *records[2:]])
    # a forged line, chained and hashed exactly as faber-db would
    last = records[-1]
    forged = {**last, "seq": last["seq"] + 1, "prev": last["hash"], "operation": "migrate",
              "status": "success", "message": "Applied 0 migration(s) to production", "environment": "production"}
    forged["hash"] = record_hash(forged)
    return "\n".join([*lines, json.dumps(forged, sort_keys=True)]) + "\n"


def test_audit_verify_sees_truncation_deletion_and_forgery(lifecycle: Lifecycle) -> None:
    """Each tamper on the same real history (built once: the check reads the file and the machine's
    anchors, not the database), and the untouched file verifies again after each."""
    path = _some_history(lifecycle)
    original = path.read_text("utf-8")
    for tamper in TAMPERS:
        text = _tampered(original.splitlines(), tamper)
        if text is None:
            path.unlink()
        else:
            path.write_text(text, "utf-8")
        result = lifecycle.faber("audit", "--verify", expect=1)
        assert error_code(result) == "AUDIT_TAMPERED", (tamper, result)
        assert result["details"]["verified"] is False and result["details"]["problems"], (tamper, result)
        path.write_text(original, "utf-8")
        assert lifecycle.faber("audit", "--verify")["details"]["verified"] is True, tamper


# --- the command line ---------------------------------------------------------------------------------------


def test_a_project_folder_named_like_a_command(lifecycle: Lifecycle, tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    shutil.copytree(lifecycle.root, folder, symlinks=True)
    code, result, stderr = run_faber(tmp_path, "--project", "backup", "status", "dev", env=lifecycle.env)
    assert code == 0, (result, stderr)
    assert result["operation"] == "status"
    code, result, _ = run_faber(tmp_path, "--project", "backup", "--project", str(lifecycle.root), "status", "dev",
                                env=lifecycle.env)
    assert code == 2 and error_code(result) == "USAGE"
    code, result, _ = run_faber(tmp_path, "--proj", "backup", "status", "dev", env=lifecycle.env)
    assert code == 2 and error_code(result) == "USAGE"
