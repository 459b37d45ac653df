"""The plugin's PreToolUse approval gate (plugins/faber-db/hooks/approval_gate.py), run as Claude Code runs
it: a subprocess with a recorded hook payload on stdin, answering JSON on stdout (or nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
HOOK = REPO / "plugins" / "faber-db" / "hooks" / "approval_gate.py"
HOOKS_JSON = REPO / "plugins" / "faber-db" / "hooks" / "hooks.json"
PAYLOADS = Path(__file__).resolve().parent / "hook_payloads"
CONFIG_REL = Path(".fractary/plugins/faber-db/config.toml")

CONFIG_STAGING_PROTECTED = """\
schema_version = 1

[database]
provider = "sqlite"
migration_tool = "prisma"

[environments.dev]
url_env = "DEV_DATABASE_URL"

[environments.staging]
url_env = "STAGING_DATABASE_URL"
protected = true
backup = "required"

[environments.production]
url_env = "PROD_DATABASE_URL"
protected = true
backup = "required"
aliases = ["prod"]
"""

CONFIG_CUSTOM_NAMES = """\
[database]
provider = "postgresql"

[environments.local]
url_env = "LOCAL_DATABASE_URL"

[environments.live]
url_env = "LIVE_DATABASE_URL"
protected = true
aliases = ["prd"]
"""


def load_payload(name: str, cwd: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text("utf-8"))
    payload["cwd"] = str(cwd)  # the recorded cwd is someone's home; point it at this test's project
    return payload


def run_hook(payload: dict[str, Any] | str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_DB_CWD", "FABER_DB_CONFIG")}
    clean.update(env or {})
    stdin = payload if isinstance(payload, str) else json.dumps(payload)
    proc = subprocess.run([sys.executable, str(HOOK)], input=stdin, capture_output=True, text=True, env=clean,
                          timeout=30, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def decision(stdout: str) -> tuple[str | None, str]:
    """("ask", reason) for an answer, (None, "") for no output (the normal permission flow)."""
    if not stdout.strip():
        return None, ""
    answer = json.loads(stdout)
    out = answer["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    return out["permissionDecision"], out["permissionDecisionReason"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with no faber-db config (defaults: production and prod protected)."""
    root = tmp_path / "acme-shop"
    (root / ".git").mkdir(parents=True)
    return root


def with_config(root: Path, text: str) -> Path:
    path = root / CONFIG_REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return root


def test_hooks_json_registers_the_gate_for_bash() -> None:
    config = json.loads(HOOKS_JSON.read_text("utf-8"))
    entries = config["hooks"]["PreToolUse"]
    assert [e["matcher"] for e in entries] == ["Bash"]
    command = "python3 ${CLAUDE_PLUGIN_ROOT}/hooks/approval_gate.py"
    assert entries[0]["hooks"] == [{"type": "command", "command": command, "timeout": 10}]


def test_every_recorded_payload_is_a_realistic_pretooluse_payload() -> None:
    files = sorted(PAYLOADS.glob("*.json"))
    assert len(files) >= 20
    for file in files:
        payload = json.loads(file.read_text("utf-8"))
        assert {"session_id", "transcript_path", "cwd", "hook_event_name", "tool_name", "tool_input"} <= set(payload)
        assert payload["hook_event_name"] == "PreToolUse"
        if payload["tool_name"] == "Bash":
            assert set(payload["tool_input"]) == {"command", "description"}


@pytest.mark.parametrize("name, expected_in_reason", [
    ("apply_production_approved", ["production", "3f9c1a2b7d4e", "migrate"]),
    ("apply_production_no_plan", ["production", "no plan id"]),
    ("apply_prod_alias_cli", ["prod", "3f9c1a2b7d4e", "--allow-destructive"]),
    ("restore_production", ["restore", "production", "20250124-103000-production", "9a8b7c6d5e4f"]),
    ("rollback_production", ["rollback", "production", "20250124140000_add_user_profiles"]),
    ("db_create_production", ["db-create", "production"]),
    ("chained_dev_then_production", ["production", "3f9c1a2b7d4e"]),
    ("bash_c_production", ["production", "3f9c1a2b7d4e"]),
])
def test_asks_for_protected_applies(project: Path, name: str, expected_in_reason: list[str]) -> None:
    rc, out, err = run_hook(load_payload(name, project))
    assert rc == 0, err
    verdict, reason = decision(out)
    assert verdict == "ask", out
    for text in expected_in_reason:
        assert text in reason, (text, reason)


@pytest.mark.parametrize("name", [
    "apply_dev",
    "apply_staging",
    "dry_run_production",
    "dry_run_production_cli_equals",
    "dry_run_rollback_production",
    "dry_run_restore_production",
    "status_production",
    "generate_migration",
    "unrelated_git_status",
    "unrelated_read_script",
    "prisma_deploy_dev_url",
    "edit_tool",
])
def test_allows_dev_applies_dry_runs_and_unrelated_commands(project: Path, name: str) -> None:
    rc, out, err = run_hook(load_payload(name, project))
    assert rc == 0, err
    assert out == "", out  # no output: Claude Code's normal permission flow decides


@pytest.mark.parametrize("name", [
    "malformed_production_quote",
    "variable_environment",
    "command_substitution",
    "unknown_environment",
])
def test_fails_closed_when_the_target_cannot_be_read(project: Path, name: str) -> None:
    rc, out, err = run_hook(load_payload(name, project))
    assert rc == 0, err
    verdict, reason = decision(out)
    assert verdict == "ask", out
    assert "protected environment may be affected" in reason


@pytest.mark.parametrize("name, words", [
    ("prisma_migrate_reset", ["migrate reset"]),
    ("prisma_db_push_force_reset", ["--force-reset"]),
    ("prisma_deploy_prod_url", ["PROD_DATABASE_URL", "migrate deploy"]),
])
def test_asks_for_dangerous_prisma_commands(project: Path, name: str, words: list[str]) -> None:
    rc, out, err = run_hook(load_payload(name, project))
    assert rc == 0, err
    verdict, reason = decision(out)
    assert verdict == "ask"
    for word in words:
        assert word in reason


def test_config_that_protects_staging(project: Path) -> None:
    with_config(project, CONFIG_STAGING_PROTECTED)
    verdict, reason = decision(run_hook(load_payload("apply_staging", project))[1])
    assert verdict == "ask" and "staging" in reason and "config.toml" in reason
    assert run_hook(load_payload("apply_dev", project))[1] == ""
    # the config is found from a sub-directory of the project too, as faber-db finds it
    sub = project / "packages" / "api"
    sub.mkdir(parents=True)
    assert decision(run_hook(load_payload("apply_staging", sub))[1])[0] == "ask"


def test_config_with_other_names_and_aliases(project: Path) -> None:
    with_config(project, CONFIG_CUSTOM_NAMES)

    def ask(command: str) -> str | None:
        payload = load_payload("apply_dev", project)
        payload["tool_input"]["command"] = command
        return decision(run_hook(payload)[1])[0]

    assert ask("faber-db migrate live --approve abc") == "ask"
    assert ask("faber-db migrate prd --approve abc") == "ask"  # alias of live
    assert ask("faber-db migrate local") is None
    # production is not defined here: unknown, so fail closed
    assert ask("faber-db migrate production") == "ask"


def test_faber_db_config_and_claude_db_cwd_are_honoured(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    with_config(elsewhere, CONFIG_STAGING_PROTECTED)
    payload = load_payload("apply_staging", project)
    assert run_hook(payload)[1] == ""  # defaults: staging is not protected
    assert decision(run_hook(payload, {"CLAUDE_DB_CWD": str(elsewhere)})[1])[0] == "ask"
    assert decision(run_hook(payload, {"FABER_DB_CONFIG": str(elsewhere / CONFIG_REL)})[1])[0] == "ask"
    # inline on the command line, and after a cd into that project
    payload["tool_input"]["command"] = f"CLAUDE_DB_CWD={elsewhere} " + payload["tool_input"]["command"]
    assert decision(run_hook(payload)[1])[0] == "ask"
    payload = load_payload("apply_staging", project)
    payload["tool_input"]["command"] = f"cd {elsewhere} && " + payload["tool_input"]["command"]
    assert decision(run_hook(payload)[1])[0] == "ask"


def test_legacy_config_json(project: Path) -> None:
    path = project / ".fractary/plugins/faber-db/config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        "database": {"provider": "postgresql"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"},
                         "staging": {"connection_string_env": "STAGING_DATABASE_URL", "require_approval": True},
                         "production": {"connection_string_env": "PROD_DATABASE_URL"}},
        "safety": {"protected_environments": ["production"]},
    }), "utf-8")
    assert decision(run_hook(load_payload("apply_staging", project))[1])[0] == "ask"
    assert decision(run_hook(load_payload("apply_production_no_plan", project))[1])[0] == "ask"
    assert run_hook(load_payload("apply_dev", project))[1] == ""


def test_broken_config_fails_closed(project: Path) -> None:
    with_config(project, "[environments.dev\nurl_env = ")
    verdict, reason = decision(run_hook(load_payload("apply_dev", project))[1])
    assert verdict == "ask" and "config.toml" in reason


def test_unparseable_payload(project: Path) -> None:
    # not JSON at all: ask only when it mentions a faber-db mutating operation
    rc, out, _ = run_hook("{not json: apply_migration.py production")
    assert rc == 0 and decision(out)[0] == "ask"
    rc, out, _ = run_hook("{not json: git status")
    assert rc == 0 and out == ""
    rc, out, _ = run_hook(json.dumps({"tool_name": "Bash", "tool_input": {}}))
    assert rc == 0 and out == ""


@pytest.mark.parametrize("command, expected", [
    ("faber-db migrate dev 2>&1 | tail -20", None),
    ("faber-db migrate dev; faber-db migrate production --approve abc", "ask"),
    ("faber-db migrate dev || faber-db rollback prod --last 1", "ask"),
    ("cd $HOME/app && faber-db migrate dev", "ask"),  # cannot tell which project's config applies
    ("python3 -m faber_db migrate production --approve=abc", "ask"),
    ("timeout 600 python3 -u apply_migration.py production --approve abc", "ask"),
    ("FOO=1 faber-db migrate production --dry-run", None),
    ("faber-db migrate production --help", None),
    ("eval faber-db migrate production", "ask"),
    ("python3 -c \"import subprocess; subprocess.run(['faber-db', 'migrate', 'production'])\"", "ask"),
    ("echo 'faber-db migrate dev'", None),
    ("grep -rn rollback.py docs/", None),
    ("python3 scripts/restore.py", None),  # someone else's restore.py, nothing about faber-db
])
def test_command_shapes(project: Path, command: str, expected: str | None) -> None:
    payload = load_payload("apply_dev", project)
    payload["tool_input"]["command"] = command
    rc, out, err = run_hook(payload)
    assert rc == 0, err
    assert decision(out)[0] == expected, out
