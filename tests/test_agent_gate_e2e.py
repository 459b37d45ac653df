"""Issue #13 end to end: under an AI agent, no shape of command applies to production without the
person's yes, because faber-db itself checks a proof only the approval gate mints; and the canonical
flow (dry run -> the hook asks, with a proof -> apply) applies once.

Every shape runs for real (`bash -c`, CLAUDECODE set, the real CLI) against a real SQLite and
PostgreSQL production database that has a pending migration and a recorded plan: afterwards the
database is unchanged and faber-db's audit trail shows the refusal. The hook is run on every shape
too (it must ask); raw-Prisma shapes, which faber-db cannot see, are only checked against the hook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import tomllib
from faber import faber_argv, faber_env, run_faber
from lifecycle import CONFIG, Lifecycle

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "faber-db"
HOOK = PLUGIN / "hooks" / "approval_gate.py"
AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")
TAG = 'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT);\n'
NOTE = 'CREATE TABLE "Note" ("id" INTEGER NOT NULL PRIMARY KEY, "body" TEXT);\n'

# shapes the issue lists (and relatives); {P} plan id, {B} backup id, {R} restore plan id, {py} python,
# {root} the project, {evil} a folder with a config that says production is not protected
SHAPES = {
    "faber_release": "faber-db faber release --approve {P}",
    "phase_script": "{py} {plugin}/skills/faber-coordinator/scripts/faber_phase.py release --approve {P}",
    "apply_script": "{py} {plugin}/skills/handler-db-prisma/scripts/apply_migration.py production --approve {P}",
    "clobber_redirect": "faber-db migrate production --approve {P} >|--dry-run",
    "split_quotes": 'faber-db mi""grate pro""duction --approve {P}',
    "split_quotes_restore": 'faber-db res""tore production --from {B} --approve {R}',
    "line_continuation": "faber-db \\\nmigrate production --approve {P}",
    "function": 'f(){{ faber-db "$@"; }}; f migrate production --approve {P}',
    "variable_command": "F=faber-db; $F migrate production --approve {P}",
    "xargs": "printf 'migrate\\nproduction\\n--approve\\n{P}\\n' | xargs faber-db",
    "python_c": "{py} -c \"import faber_db.cli as c; c.main(['migrate','production','--approve','{P}'])\"",
    "python_heredoc": ("{py} - <<'EOF'\nimport faber_db.cli as c\n"
                       "c.main(['migrate', 'production', '--approve', '{P}'])\nEOF"),
    "comment_trick": 'echo a#; faber-db migrate pro""duction --approve {P}',
    "cd_short_circuit": "false && cd /tmp; faber-db migrate production --approve {P}",
    "pushd_popd": "pushd /tmp >/dev/null; popd >/dev/null; faber-db migrate production --approve {P}",
    "forged_proof": "FABER_DB_APPROVAL=fdb1.e30.AAAA faber-db migrate production --approve {P}",
    "evil_config": "FABER_DB_CONFIG={evil}/config.toml faber-db migrate production",
    "dev_is_prod": 'export DEV_DATABASE_URL="$PROD_DATABASE_URL"; faber-db migrate dev',
    "dev_is_prod_unset": ('export DEV_DATABASE_URL="$PROD_DATABASE_URL"; unset PROD_DATABASE_URL; '
                          "faber-db migrate dev"),
    "claude_ancestor": "CLAUDECODE= faber-db migrate production --approve {P}",
    "edited_config": "faber-db migrate production",  # the test sets protected = false in the config first
}
# refused as bad usage before anything runs (exit 2): nothing to audit, nothing changed
USAGE_SHAPES = {"abbreviated_project": "faber-db migrate production --project {evil} --proj {root} --approve {P}"}
# plain canonical applies: the hook asks WITH a proof (the person's yes goes into the command they accept);
# the command as the agent wrote it, without that yes, is refused like every other shape
CANONICAL = frozenset({"faber_release", "phase_script", "apply_script"})
RAW_SHAPES = {
    "raw_prisma_computed_url": "U=PROD; DATABASE_URL=$(printenv ${{U}}_DATABASE_URL) npx prisma migrate deploy",
}


def _hook(payload: dict[str, Any], root: Path) -> dict[str, Any] | None:
    done = subprocess.run([sys.executable, str(HOOK)], input=json.dumps(payload), capture_output=True, text=True,
                          cwd=root, env={**os.environ, "CLAUDE_PLUGIN_ROOT": str(PLUGIN)}, timeout=60, check=True)
    return json.loads(done.stdout) if done.stdout.strip() else None


def _bash_payload(command: str, root: Path) -> dict[str, Any]:
    return {"session_id": "e2e", "hook_event_name": "PreToolUse", "cwd": str(root), "tool_name": "Bash",
            "tool_input": {"command": command, "description": "run it"}}


def _agent_env(life: Lifecycle) -> dict[str, str]:
    env = faber_env({**life.env, "CLAUDECODE": "1"})
    env["PATH"] = f"{Path(faber_argv()[0]).parent}{os.pathsep}{env['PATH']}"
    return env


def _run_shape(command: str, life: Lifecycle, env: dict[str, str], *, as_claude_child: bool = False
               ) -> subprocess.CompletedProcess[str]:
    if not as_claude_child:
        return subprocess.run(["bash", "-c", command], cwd=life.root, env=env, capture_output=True, text=True,
                              timeout=180, check=False)
    # a parent process named `claude` (as Claude Code's is), with the marker variable unset below it
    launcher = ("import ctypes, subprocess, sys; ctypes.CDLL(None).prctl(15, b'claude', 0, 0, 0); "
                "sys.exit(subprocess.run(['bash', '-c', sys.argv[1]]).returncode)")
    return subprocess.run([sys.executable, "-c", launcher, command], cwd=life.root, env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def _production_state(life: Lifecycle) -> tuple[Any, ...]:
    tables = life.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", "production") \
        if life.urls["PROD_DATABASE_URL"].startswith("file:") else life.rows(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", "production")
    history = life.rows('SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" '
                        "ORDER BY migration_name", "production")
    return (tuple(r["name"] for r in tables), tuple(tuple(map(str, r.values())) for r in history),
            life.table("User", "production"))


def _audit(life: Lifecycle) -> list[dict[str, Any]]:
    path = life.root / AUDIT
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.is_file() else []


@pytest.fixture
def armed(lifecycle: Lifecycle, tmp_path: Path) -> dict[str, str]:
    """Production deployed with rows, a pending (additive) migration, a recorded plan for it and
    a recorded restore plan; a folder whose config says production is unprotected."""
    life = lifecycle
    life.project.add_migration("20990101000000_note", NOTE)
    plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    life.faber("migrate", "production", "--approve", plan)
    life.faber("migrate", "dev")
    _insert_users(life, 12)
    backup = life.faber("backup", "production")["details"]["backup"]["id"]
    life.project.add_migration("20990102000000_tag", TAG)
    plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    restore = life.faber("restore", "production", "--from", backup, "--dry-run")["details"]["plan_id"]
    evil = tmp_path / "evil"
    evil.mkdir()
    data = tomllib.loads((life.root / CONFIG).read_text("utf-8"))
    data["environments"]["production"]["protected"] = False
    data["environments"]["production"]["backup"] = "optional"
    (evil / "config.toml").write_text(tomli_w.dumps(data), "utf-8")
    return {"P": plan, "B": backup, "R": restore, "py": sys.executable, "plugin": str(PLUGIN),
            "root": str(life.root), "evil": str(evil)}


def _insert_users(life: Lifecycle, count: int) -> None:
    url = life.urls["PROD_DATABASE_URL"]
    sql = "".join(f"INSERT INTO \"User\" (email) VALUES ('u{i}@example.com');" for i in range(count))
    if url.startswith("file:"):
        import sqlite3

        with sqlite3.connect(url[len("file:"):]) as conn:
            conn.executescript(f"BEGIN;\n{sql}\nCOMMIT;")  # one commit, not one per INSERT
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def test_no_shape_applies_to_production_without_the_persons_yes(lifecycle: Lifecycle, armed: dict[str, str]) -> None:
    life = lifecycle
    env = _agent_env(life)
    before = _production_state(life)
    config = life.root / CONFIG
    original_config = config.read_text("utf-8")
    for name, shape in {**SHAPES, **USAGE_SHAPES}.items():
        command = shape.format(**armed)
        answer = _hook(_bash_payload(command, life.root), life.root)
        assert answer is not None and answer["hookSpecificOutput"]["permissionDecision"] == "ask", (name, answer)
        minted = "FABER_DB_APPROVAL" in json.dumps(answer["hookSpecificOutput"].get("updatedInput", {}))
        assert minted == (name in CANONICAL), (name, "only a plain canonical apply gets a proof", answer)
        if name == "edited_config":
            config.write_text(original_config.replace("protected = true", "protected = false"), "utf-8")
        lines_before = len(_audit(life))
        done = _run_shape(command, life, {k: v for k, v in env.items() if not (name == "claude_ancestor"
                                                                                and k == "CLAUDECODE")},
                          as_claude_child=name == "claude_ancestor")
        config.write_text(original_config, "utf-8")
        assert _production_state(life) == before, (name, done.stdout[-2000:], done.stderr[-2000:])
        new = _audit(life)[lines_before:]
        if name in USAGE_SHAPES:
            assert done.returncode == 2, (name, done.stdout[-2000:])
            continue
        assert new and all(e["outcome"] == "refused" and e["error"] == "APPROVAL_REQUIRED" for e in new), (
            name, new, done.stdout[-1500:])
        # the result faber-db printed (its exit code is 3; xargs turns that into 123, python -c drops it;
        # `>|--dry-run` sent it to a file of that name)
        printed = done.stdout or (life.root / "--dry-run").read_text("utf-8")
        assert "{" in printed, (name, done.stdout, done.stderr[-2000:])
        printed = printed[printed.index("{"):]  # after what the shape itself echoed
        assert json.loads(printed)["errors"][0]["code"] == "APPROVAL_REQUIRED", (name, printed[-1500:])
    for name, shape in RAW_SHAPES.items():
        answer = _hook(_bash_payload(shape.format(**armed), life.root), life.root)
        assert answer is not None and answer["hookSpecificOutput"]["permissionDecision"] == "ask", (name, answer)


def test_the_canonical_flow_applies_once(lifecycle: Lifecycle, armed: dict[str, str]) -> None:
    life = lifecycle
    env = _agent_env(life)
    command = f"faber-db migrate production --approve {armed['P']}"
    answer = _hook(_bash_payload(command, life.root), life.root)
    assert answer is not None
    output = answer["hookSpecificOutput"]
    assert output["permissionDecision"] == "ask"
    approved = output["updatedInput"]["command"]
    assert approved.startswith("FABER_DB_APPROVAL=fdb1.") and approved.endswith(command)
    assert output["updatedInput"]["description"] == "run it"  # the rest of the tool input is kept

    done = _run_shape(approved, life, env)  # the person accepted: Claude Code runs the updated command
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["details"]["applied"] == ["20990102000000_tag"]
    assert "the person" in _audit(life)[-1]["approved_by"]

    life.project.add_migration("20990103000000_note_again", NOTE.replace('"Note"', '"Note2"'))
    again = _run_shape(approved, life, env)  # the same approved command a second time: the plan is spent
    assert again.returncode == 3 and json.loads(again.stdout)["errors"][0]["code"] == "PLAN_USED", again.stdout
    new_plan = life.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    token = approved.split(" ", 1)[0]
    reused = _run_shape(f"{token} faber-db migrate production --approve {new_plan}", life, env)
    assert reused.returncode == 3, reused.stdout[-2000:]
    assert json.loads(reused.stdout)["errors"][0]["code"] == "APPROVAL_REQUIRED"
    assert "20990103000000_note_again" not in str(_production_state(life)[1])


def test_a_claude_parent_is_enough_to_need_the_proof(lifecycle: Lifecycle, armed: dict[str, str]) -> None:
    """Unsetting every agent variable does not make faber-db think a person is driving it."""
    env = {k: v for k, v in _agent_env(lifecycle).items() if k != "CLAUDECODE"}
    done = _run_shape(f"faber-db migrate production --approve {armed['P']}", lifecycle, env, as_claude_child=True)
    assert done.returncode == 3, done.stdout[-2000:]
    assert "ancestor" in json.loads(done.stdout)["message"]
    # without the claude parent, the same command (no agent at all) is a person's CI-style approval
    plain = run_faber(lifecycle.root, "migrate", "production", "--approve", armed["P"], env=lifecycle.env)
    assert plain.returncode == 0, plain
