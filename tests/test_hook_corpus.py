"""The recorded PreToolUse payloads of tests/hook_payloads/, each run through the real hook script
as Claude Code runs it (a subprocess, the payload on stdin, JSON or nothing on stdout), against a
project that has what the payloads point at: a faber-db config protecting staging and production,
a recorded plan, scripts that apply to production, a copy of a skill script, a package.json whose
script deploys, a protected SQLite file, and two sibling projects (a broken config, and one that
calls production unprotected while naming production's URL variable).

expected.json says, for each payload: "proof" (ask, with updatedInput carrying a proof that
verifies once for the expected plan, environment and project), "ask" (ask, no proof, the reason
naming what it found) or "none" (no output: Claude Code's normal permission flow).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from faber_db import proof

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "plugins" / "faber-db"
HOOK = PLUGIN / "hooks" / "approval_gate.py"
PAYLOADS = Path(__file__).resolve().parent / "hook_payloads"
EXPECTED: dict[str, dict[str, Any]] = json.loads((PAYLOADS / "expected.json").read_text("utf-8"))
NOT_PAYLOADS = frozenset({"expected.json", "README.md"})
RECORDED_PROJECT = "/home/dev/acme-shop"
CONFIG = """\
schema_version = 1

[database]
provider = "sqlite"

[prisma]
schema = "prisma/schema.prisma"
migrations_dir = "prisma/migrations"

[environments.dev]
url_env = "DEV_DATABASE_URL"

[environments.staging]
url_env = "STAGING_DATABASE_URL"
protected = true

[environments.production]
url_env = "PROD_DATABASE_URL"
protected = true
backup = "required"
aliases = ["prod"]
"""
EVIL_CONFIG = """\
[database]
provider = "sqlite"

[environments.production]
url_env = "PROD_DATABASE_URL"
protected = false
"""
# variables of the machine running the tests that would change what the hook sees
SCRUBBED = ("CLAUDE_DB_CWD", "FABER_DB_CONFIG", "DATABASE_URL", "DEV_DATABASE_URL", "STAGING_DATABASE_URL",
            "PROD_DATABASE_URL", "CDPATH", "CLAUDE_PLUGIN_ROOT", "FABER_DB_APPROVAL")


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    path.chmod(mode)


def _plan_record(plan_id: str, environment: str) -> str:
    return json.dumps({
        "plan_id": plan_id, "operation": "migrate", "environment": environment,
        "created_at": "2026-12-01T10:00:00Z", "expires_at": None, "used_at": None,
        "summary": {"title": f"Apply 2 migrations to {environment}",
                    "lines": ["20250124140000_add_user_profiles: CREATE TABLE \"Profile\"",
                              "20250125090000_drop_legacy: DROP COLUMN \"User\".\"legacy\" (1,204 rows)"]}})


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("corpus")
    root = base / "acme-shop"
    (root / ".git").mkdir(parents=True)
    _write(root / "prisma/schema.prisma", 'datasource db {\n  provider = "sqlite"\n}\n\nmodel User {\n'
                                          '  id Int @id\n}\n')
    _write(root / "prisma/migrations/20250101000000_init/migration.sql", 'CREATE TABLE "User" ("id" INTEGER);\n')
    _write(root / "prisma/prod.db", "")
    _write(root / "prisma/dev.db", "")
    _write(root / "prisma.config.ts", 'export default { datasource: { url: process.env.DATABASE_URL } }\n')
    _write(root / ".fractary/plugins/faber-db/config.toml", CONFIG)
    _write(root / ".fractary/plugins/faber-db/plans/3f9c1a2b7d4e.json", _plan_record("3f9c1a2b7d4e", "production"))
    _write(root / ".fractary/plugins/faber-db/plans/5d6e7f8a9b0c.json", _plan_record("5d6e7f8a9b0c", "staging"))
    _write(root / "scripts/deploy-prod.sh", "#!/bin/sh\nset -e\nfaber-db migrate production --approve P\n", 0o755)
    _write(root / "scripts/safe.sh", "#!/bin/sh\nfaber-db status dev\n", 0o755)
    _write(root / "scripts/ci.sh", "#!/bin/sh\npytest -q\n", 0o755)
    skill = PLUGIN / "skills/handler-db-prisma/scripts/apply_migration.py"
    _write(root / "tools/apply_copy.py", skill.read_text("utf-8"), 0o755)
    _write(root / "tools/deploy.py", "from faber_db.cli import main\nmain(['migrate', 'production'])\n")
    _write(root / "tools/report.py", "print('report')\n")
    _write(root / "package.json", json.dumps({"scripts": {"db:deploy": "prisma migrate deploy", "test": "pytest -q",
                                                          "build": "tsc"}}))
    _write(root / ".env", "DATABASE_URL=file:./prod.db\n")
    _write(root / "notes.txt", "notes\n")
    _write(root / "README.md", "# Acme\n")
    _write(root / "src/app.ts", "export const x = 1;\n")
    _write(root / "apps/api/prisma/schema.prisma", 'datasource db {\n  provider = "sqlite"\n}\n')
    _write(root / "apps/api/.fractary/plugins/faber-db/config.toml", CONFIG)
    (base / "broken/.git").mkdir(parents=True)
    _write(base / "broken/.fractary/plugins/faber-db/config.toml", "[environments.dev\nurl_env = ")
    (base / "evil/.git").mkdir(parents=True)
    _write(base / "evil/.fractary/plugins/faber-db/config.toml", EVIL_CONFIG)
    return root


def hook_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update({"CLAUDE_PLUGIN_ROOT": str(PLUGIN), "CLAUDECODE": "1", "PROD_DATABASE_URL": "file:./prod.db",
                "DEV_DATABASE_URL": "file:./dev.db", "STAGING_DATABASE_URL": "file:./staging.db"})
    return env


def load(name: str, project: Path) -> dict[str, Any]:
    path = PAYLOADS / f"{name}.json"
    raw = path.read_text("utf-8") if path.is_file() else gzip.decompress(
        (PAYLOADS / f"{name}.json.gz").read_bytes()).decode("utf-8")
    text = (raw.replace(RECORDED_PROJECT, str(project)).replace("__PLUGIN__", str(PLUGIN))
            .replace("__APPROVAL__", str(proof.approval_dir())))
    payload: dict[str, Any] = json.loads(text)
    return payload


def run_hook(payload: dict[str, Any], cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, str(HOOK)], input=json.dumps(payload), capture_output=True, text=True,
                          env=hook_environment(), cwd=cwd, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def test_the_corpus_is_complete() -> None:
    files = {p.name.split(".json")[0] for p in PAYLOADS.iterdir() if p.name not in NOT_PAYLOADS}
    assert files == set(EXPECTED)
    decisions = [e["decision"] for e in EXPECTED.values()]
    assert len(decisions) >= 300
    assert decisions.count("proof") >= 20 and decisions.count("ask") >= 150 and decisions.count("none") >= 100
    tools = {json.loads(gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_text("utf-8"))["tool_name"]
             for p in PAYLOADS.iterdir() if p.name not in NOT_PAYLOADS}
    assert tools == {"Bash", "Write", "Edit", "MultiEdit", "NotebookEdit"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_payload(name: str, project: Path) -> None:
    expected = EXPECTED[name]
    payload = load(name, project)
    assert payload["hook_event_name"] == "PreToolUse"
    rc, out, err = run_hook(payload, project)
    assert rc == 0, err
    if expected["decision"] == "none":
        assert out == "", out
        return
    answer = json.loads(out)
    assert set(answer) == {"hookSpecificOutput"}
    output = answer["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    assert output["permissionDecision"] == "ask"  # never "allow"
    reason = output["permissionDecisionReason"]
    for text in expected.get("contains", []):
        assert text in reason, (text, reason)
    if expected["decision"] == "ask":
        assert "updatedInput" not in output, output
        return
    check_proof(payload["tool_input"], output, expected, project)


def check_proof(tool_input: dict[str, Any], output: dict[str, Any], expected: dict[str, Any], project: Path) -> None:
    updated = output["updatedInput"]
    assert {k: v for k, v in updated.items() if k != "command"} == {
        k: v for k, v in tool_input.items() if k != "command"}  # description and the rest are kept
    original = tool_input["command"]
    match = re.search(r"FABER_DB_APPROVAL=(fdb1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+) ", updated["command"])
    assert match, updated["command"]
    token = match.group(1)
    # the proof sits in front of the apply itself, after an optional `cd DIR && `
    assert updated["command"].replace(match.group(0), "", 1) == original
    assert match.start() == 0 or updated["command"][:match.start()].endswith("&& ")
    assert f"plan {expected['plan']}" in output["permissionDecisionReason"]
    if expected["plan"] == "3f9c1a2b7d4e":
        assert "DROP COLUMN" in output["permissionDecisionReason"]  # the recorded plan's summary is shown
    with pytest.raises(proof.ProofRejected, match="another plan"):
        proof.verify_and_spend(token, plan_id="other", environment=expected["environment"], project_root=project)
    with pytest.raises(proof.ProofRejected, match="another environment"):
        proof.verify_and_spend(token, plan_id=expected["plan"], environment="dev", project_root=project)
    with pytest.raises(proof.ProofRejected, match="another project"):
        proof.verify_and_spend(token, plan_id=expected["plan"], environment=expected["environment"],
                               project_root=project.parent / "evil")
    proof.verify_and_spend(token, plan_id=expected["plan"], environment=expected["environment"], project_root=project)
    with pytest.raises(proof.ProofRejected, match="already used"):
        proof.verify_and_spend(token, plan_id=expected["plan"], environment=expected["environment"],
                               project_root=project)


def test_the_gate_fails_closed_when_its_core_is_broken(tmp_path: Path, project: Path) -> None:
    """A copy of the plugin whose gate package cannot be imported: every command is asked about."""
    copy = tmp_path / "faber-db"
    shutil.copytree(PLUGIN / "hooks", copy / "hooks")
    shutil.copytree(PLUGIN / "lib", copy / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (copy / "lib/faber_db/gate/analyze.py").write_text("raise RuntimeError('broken on purpose')\n", "utf-8")
    payload = load("git_status", project)
    done = subprocess.run([sys.executable, str(copy / "hooks/approval_gate.py")], input=json.dumps(payload),
                          capture_output=True, text=True, env=hook_environment(), cwd=project, timeout=60,
                          check=False)
    assert done.returncode == 0
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["permissionDecision"] == "ask" and "broken on purpose" in output["permissionDecisionReason"]


@pytest.mark.parametrize("stdin, words", [
    ("{not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps({"tool_name": "Bash", "tool_input": "faber-db migrate production"}), "no tool_input"),
    (json.dumps({"tool_name": "Bash", "tool_input": {"description": "x"}}), "no command"),
])
def test_malformed_payloads_are_asked_about(stdin: str, words: str, project: Path) -> None:
    done = subprocess.run([sys.executable, str(HOOK)], input=stdin, capture_output=True, text=True,
                          env=hook_environment(), cwd=project, timeout=60, check=False)
    assert done.returncode == 0
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["permissionDecision"] == "ask" and words in output["permissionDecisionReason"]


def test_other_tools_are_left_alone(project: Path) -> None:
    payload = load("git_status", project)
    payload["tool_name"] = "Read"
    payload["tool_input"] = {"file_path": str(project / ".fractary/plugins/faber-db/config.toml")}
    assert run_hook(payload, project)[1] == ""


def test_the_hook_writes_nothing_inside_the_plugin(project: Path) -> None:
    before = sorted(str(p) for p in PLUGIN.rglob("*") if "__pycache__" in p.parts)
    run_hook(load("proof_migrate_production", project), project)
    after = sorted(str(p) for p in PLUGIN.rglob("*") if "__pycache__" in p.parts)
    assert after == before


def test_hooks_json_registers_the_gate_for_every_tool_that_can_change_a_database() -> None:
    config = json.loads((PLUGIN / "hooks" / "hooks.json").read_text("utf-8"))
    (entry,) = config["hooks"]["PreToolUse"]
    assert set(entry["matcher"].split("|")) == {"Bash", "Write", "Edit", "MultiEdit", "NotebookEdit"}
    assert entry["hooks"] == [{"type": "command", "command": "python3 ${CLAUDE_PLUGIN_ROOT}/hooks/approval_gate.py",
                               "timeout": 10}]
