"""faber_db.policy, the rules the CLI and the approval gate share: project discovery (issue 16), the
protection read from the real config (checked against faber-db's own loader), agent detection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from faber_db import config, policy

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "plugins" / "faber-db"
CONFIG = """\
[database]
provider = "postgresql"

[environments.local]
url_env = "LOCAL_DATABASE_URL"

[environments.qa]
url_env = "QA_DATABASE_URL"
protected = true
shadow_url_env = "QA_SHADOW_URL"

[environments.live]
url_env = "LIVE_DATABASE_URL"
protected = true
aliases = ["prd", "production"]
"""
SCHEMA = 'datasource db {\n  provider = "sqlite"\n  url = env("DATABASE_URL")\n}\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "monorepo"
    (root / ".git").mkdir(parents=True)
    return root


# --- discovery --------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", [
    "prisma/schema.prisma", "schema.prisma", "prisma/schema/base.prisma", "prisma.config.ts", "prisma.config.mjs",
    ".fractary/plugins/faber-db/config.toml", ".fractary/plugins/faber-db/config.json",
])
def test_the_nearest_project_folder_is_found_from_below(repo: Path, marker: str) -> None:
    write(repo / "apps/api" / marker, "x")
    start = repo / "apps/api/src/routes"
    start.mkdir(parents=True)
    root, searched = policy.find_project_root(start, {})
    assert root == repo / "apps/api"
    assert searched == [start, repo / "apps/api/src", repo / "apps/api"]


def test_discovery_stops_at_the_git_root_and_names_every_folder(repo: Path) -> None:
    write(repo.parent / ".fractary/plugins/faber-db/config.toml", CONFIG)  # above the git root: not this project
    start = repo / "apps/web"
    start.mkdir(parents=True)
    root, searched = policy.find_project_root(start, {})
    assert root is None
    assert searched == [start, repo / "apps", repo]


def test_the_git_root_itself_counts(repo: Path) -> None:
    write(repo / "prisma/schema.prisma", SCHEMA)
    (repo / "docs").mkdir()
    assert policy.find_project_root(repo / "docs", {})[0] == repo


def test_claude_db_cwd_wins(repo: Path, tmp_path: Path) -> None:
    write(repo / "prisma/schema.prisma", SCHEMA)
    other = tmp_path / "other"
    other.mkdir()
    assert policy.find_project_root(repo, {"CLAUDE_DB_CWD": str(other)}) == (other, [other])
    assert policy.find_project_root(tmp_path, {"CLAUDE_DB_CWD": "other"})[0] == other  # relative to the start


def test_config_find_project_root_delegates(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo / "apps/api/prisma/schema.prisma", SCHEMA)
    monkeypatch.delenv("CLAUDE_DB_CWD", raising=False)
    monkeypatch.chdir(repo / "apps/api/prisma")
    root, searched = config.find_project_root()
    assert root == repo / "apps/api" and searched[0] == repo / "apps/api/prisma"


def test_init_in_a_monorepo_subfolder_finds_that_project(repo: Path) -> None:
    """issue 16: `faber-db init` in apps/api of a monorepo writes apps/api's config, not the repo root's."""
    write(repo / "package.json", "{}")
    write(repo / "apps/api/prisma/schema.prisma", SCHEMA + "\nmodel User {\n  id Int @id\n}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_DB_CWD", "FABER_DB_CONFIG")}
    done = subprocess.run([sys.executable, "-m", "faber_db", "init", "--format", "json"], cwd=repo / "apps/api",
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(done.stdout)
    assert done.returncode == 0, result
    assert (repo / "apps/api/.fractary/plugins/faber-db/config.toml").is_file()
    assert not (repo / ".fractary").exists()


# --- protection ---------------------------------------------------------------------------------


def test_protection_from_toml(tmp_path: Path) -> None:
    write(tmp_path / ".fractary/plugins/faber-db/config.toml", CONFIG)
    prot = policy.protection(tmp_path, {})
    assert prot.error is None and prot.config_path == tmp_path / ".fractary/plugins/faber-db/config.toml"
    assert prot.canonical("prd") == "live" and prot.canonical("production") == "live"
    assert prot.is_protected("prd") and prot.is_protected("qa") and not prot.is_protected("local")
    assert prot.canonical("dev") is None and not prot.is_protected("dev")
    assert prot.protected_url_variables == {"QA_DATABASE_URL", "QA_SHADOW_URL", "LIVE_DATABASE_URL"}
    assert prot.url_variables == prot.protected_url_variables | {"LOCAL_DATABASE_URL"}


def test_protection_agrees_with_faber_dbs_own_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FABER_DB_CONFIG", raising=False)
    legacy = {
        "database": {"provider": "postgresql"},
        "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL"},
                         "staging": {"connection_string_env": "STAGING_URL", "require_approval": True},
                         "production": {}, "eu": {"connection_string_env": "EU_URL"}},
        "safety": {"protected_environments": ["production", "eu"]},
    }
    for index, (name, text) in enumerate([("config.toml", CONFIG), ("config.json", json.dumps(legacy))]):
        root = tmp_path / str(index)
        write(root / ".fractary/plugins/faber-db" / name, text)
        loaded = config.load_config(root)
        prot = policy.protection(root, {})
        assert set(prot.environments) == set(loaded.config.environments)
        for env_name, env in loaded.config.environments.items():
            mine = prot.environments[env_name]
            assert (mine.protected, mine.url_env, mine.aliases, mine.shadow_url_env) == (
                env.protected, env.url_env, env.aliases, env.shadow_url_env), env_name


def test_faber_db_config_overrides_the_path(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere.toml", CONFIG)
    assert policy.protection(tmp_path, {"FABER_DB_CONFIG": "elsewhere.toml"}).is_protected("live")
    missing = policy.protection(tmp_path, {"FABER_DB_CONFIG": str(tmp_path / "nope.toml")})
    assert missing.error is not None and "missing" in missing.error


def test_no_config_means_the_defaults(tmp_path: Path) -> None:
    prot = policy.protection(tmp_path, {})
    assert prot.error is None and prot.config_path is None
    assert prot.is_protected("prod") and not prot.is_protected("staging")


@pytest.mark.parametrize("text, words", [
    ("[environments.dev\nurl_env = ", "cannot read"),
    ("[environments.dev]\nurl_env = 'X'\nprotected = 'yes'\n", "not a boolean"),
    ("[environments.a]\nurl_env = 'A'\naliases = ['b']\n[environments.b]\nurl_env = 'B'\n", "used by two"),
    ("[database]\nprovider = 'sqlite'\n", "no [environments]"),
    ("[environments.dev]\nprotected = true\n", "url_env"),
])
def test_an_unreadable_config_protects_everything(tmp_path: Path, text: str, words: str) -> None:
    write(tmp_path / ".fractary/plugins/faber-db/config.toml", text)
    prot = policy.protection(tmp_path, {})
    assert prot.error is not None and words in prot.error
    assert prot.is_protected("dev") and prot.is_protected("anything") and prot.canonical("dev") is None


def test_script_commands_match_the_skill_scripts() -> None:
    scripts = {str(p.relative_to(PLUGIN)): p for p in PLUGIN.glob("skills/*/scripts/*.py")}
    assert set(policy.SCRIPT_COMMANDS) == set(scripts)
    for relative, path in scripts.items():
        assert f'run_command("{policy.SCRIPT_COMMANDS[relative]}")' in path.read_text("utf-8")


def test_mutating_operations_are_cli_commands() -> None:
    from faber_db.commands import COMMANDS
    from faber_db.faber import PHASES, phase_steps

    assert set(COMMANDS) >= policy.MUTATING_OPERATIONS
    for phase in PHASES:
        steps = phase_steps(phase, description="x", approve="P")
        applies = [s.command[1] for s in steps if s.command[0] == "migrate" and "--dry-run" not in s.command]
        assert applies == ([policy.MUTATING_FABER_PHASES[phase]] if phase in policy.MUTATING_FABER_PHASES else [])


def test_policy_imports_without_faber_dbs_dependencies() -> None:
    """The hook runs with the system Python: policy, proof and the gate need nothing but the stdlib."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import faber_db.gate, faber_db.policy, faber_db.proof; "
            "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in "
            "('pydantic', 'jinja2', 'tomli_w', 'pg8000', 'sqlglot', 'pglast')))")
    done = subprocess.run([sys.executable, "-S", "-c", code, str(PLUGIN / "lib")], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- agent detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("environ, agent", [
    ({"CLAUDECODE": "1"}, "Claude Code"),
    ({"CODEX_SANDBOX": "seatbelt"}, "Codex"),
    ({"GEMINI_CLI": "1"}, "Gemini"),
    ({"CURSOR_AGENT": "1"}, "Cursor"),
    ({"AGENT": "goose"}, "AI agent"),
    ({"AI_AGENT": "my-bot"}, "AI agent"),
    ({"OR_APP_NAME": "Aider"}, "Aider"),
    ({"REPLIT_SESSION": "agent-123"}, "Replit"),
])
def test_agent_variables(environ: dict[str, str], agent: str) -> None:
    marker = policy.agent_marker(environ)
    assert marker is not None and agent in marker


def test_empty_or_other_values_are_no_agent() -> None:
    if policy.claude_ancestor(os.getpid()) is not None:
        pytest.skip("these tests run under Claude Code itself")
    assert policy.agent_marker({"CLAUDECODE": "", "OR_APP_NAME": "vim", "REPLIT_SESSION": "human-1"}) is None


def test_a_claude_ancestor_is_found_without_any_variable() -> None:
    """A process whose argv[0] is `claude` starts a child: from the child, the claude process is found."""
    code = ("import subprocess, sys; child = subprocess.Popen(['sleep', '30']); print(child.pid, flush=True); "
            "sys.stdin.read(); child.kill()")
    claude = subprocess.Popen(["claude", "-c", code], executable=sys.executable, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={"PATH": os.environ.get("PATH", "")})
    try:
        assert claude.stdout is not None
        child = int(claude.stdout.readline())
        assert policy.claude_ancestor(child) == claude.pid
        marker = policy.agent_marker({}, pid=child)
        assert marker is not None and str(claude.pid) in marker
    finally:
        assert claude.stdin is not None
        claude.stdin.close()
        claude.wait(timeout=30)
