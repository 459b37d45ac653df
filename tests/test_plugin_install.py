"""End to end: the plugin as Claude Code installs it.

Installs the real Claude Code CLI from npm (once per cache dir), validates the marketplace and the
plugin with `claude plugin validate --strict`, adds this repo as a marketplace and installs
`faber-db@faber-db-marketplace` into a temporary HOME, then runs the INSTALLED copy's scripts the way
the command Markdown tells the agent to (`python3 ${CLAUDE_PLUGIN_ROOT}/skills/.../x.py ...`, cwd = the
project) against a real Prisma 6.15 SQLite project: init, generate a migration, migrate dev, the
production dry run, the refusal without approval, the approved apply, status.

`python3` is a bare virtual environment without faber-db's dependencies, so the installed copy must
bootstrap its own venv under CLAUDE_PLUGIN_DATA (kept in the test cache, so that happens once).

The launcher on its own (a copy of the plugin folder, as Claude Code makes one, and the same bare
python): --help, --version and usage errors answer with no venv and write nothing; offline, the first
real command fails with RUNTIME_INSTALL_FAILED and the command to run; online it builds the venv with
one progress line per step and runs the command in it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import DEFAULT_MODELS, PrismaProject, cache_dir, sqlite_url

REPO = Path(__file__).resolve().parent.parent
PLUGIN_SRC = REPO / "plugins" / "faber-db"
CLAUDE_CODE_VERSION = os.environ.get("FABER_CLAUDE_CODE_VERSION", "2.1.197")
MARKETPLACE = "faber-db-marketplace"
QUIET_CLAUDE = {  # no telemetry, auto-updates or other network traffic from the CLI
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
SCRUBBED = ("CLAUDE_DB_CWD", "FABER_DB_CONFIG", "DATABASE_URL", "DEV_DATABASE_URL", "STAGING_DATABASE_URL",
            "PROD_DATABASE_URL", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CLAUDE_PLUGIN_ROOT",
            "CLAUDE_PLUGIN_DATA", "CLAUDE_CONFIG_DIR", "FABER_DB_PYTHON", "FABER_DB_BOOTSTRAPPED",
            "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")  # as a user has it: bytecode caching on

POST_MODEL = """
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
}
"""


def _locked_build(target: Path, build: Any) -> Path:
    """Build `target` once under a file lock, in a scratch dir renamed into place."""
    marker = target / ".complete"
    if marker.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():
            return target
        scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.tmp-", dir=target.parent))
        try:
            build(scratch)
            (scratch / ".complete").write_text("ok\n")
            if target.exists():
                shutil.rmtree(target)
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _claude_works(claude: Path) -> bool:
    try:
        done = subprocess.run([str(claude), "--version"], capture_output=True, text=True, timeout=60,
                              env={**os.environ, **QUIET_CLAUDE}, check=False)
    except OSError:
        return False
    return done.returncode == 0 and "Claude Code" in done.stdout


def ensure_claude_code() -> Path:
    """node_modules/.bin/claude of @anthropic-ai/claude-code, installed once into the test cache."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if npm is None or node is None:
        pytest.skip("npm/node not on PATH: the end-to-end test installs Claude Code from npm")

    def build(scratch: Path) -> None:
        (scratch / "package.json").write_text('{"name": "faber-db-e2e-claude", "private": true}\n')
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"],
            cwd=scratch, capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
        claude = scratch / "node_modules" / ".bin" / "claude"
        if not _claude_works(claude):  # the postinstall did not link the native binary (--ignore-scripts etc.)
            subprocess.run([node, "node_modules/@anthropic-ai/claude-code/install.cjs"], cwd=scratch,
                           capture_output=True, text=True, timeout=300, check=False)
        assert _claude_works(claude), "the installed Claude Code CLI does not run"

    root = _locked_build(cache_dir() / "claude-code" / CLAUDE_CODE_VERSION, build)
    return root / "node_modules" / ".bin" / "claude"


def ensure_bare_python() -> Path:
    """A virtual environment with no packages: `python3` as a user without faber-db's dependencies has it."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"

    def build(scratch: Path) -> None:
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--without-pip", str(scratch / "venv")], check=True, timeout=300)

    root = _locked_build(cache_dir() / f"bare-python-{version}", build)
    bin_dir = root / "venv" / "bin"
    probe = subprocess.run([str(bin_dir / "python3"), "-c", "import pydantic"], capture_output=True, check=False)
    assert probe.returncode != 0, "the bare python can import pydantic: it would not exercise the bootstrap"
    return bin_dir


def claude_cli(claude: Path, home: Path, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(QUIET_CLAUDE)
    env["HOME"] = str(home)
    return subprocess.run([str(claude), *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300, check=False)


@dataclass
class Run:
    returncode: int
    result: dict[str, Any]
    stderr: str

    @property
    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = self.result.get("details") or {}
        return details

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.result.get("errors") or []]


@dataclass
class InstalledPlugin:
    root: Path
    data: Path
    python_bin: Path

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env["PATH"] = f"{self.python_bin}{os.pathsep}{env.get('PATH', '')}"
        env["CLAUDE_PLUGIN_ROOT"] = str(self.root)
        env["CLAUDE_PLUGIN_DATA"] = str(self.data)
        env.update(extra)
        return env

    def run(self, project: Path, script: str, *args: str, env: dict[str, str]) -> Run:
        """`python3 ${CLAUDE_PLUGIN_ROOT}/skills/<script> args...` in the project, as the Markdown says."""
        full = self.env(env)
        proc = subprocess.run(["python3", f"{full['CLAUDE_PLUGIN_ROOT']}/skills/{script}", *args], cwd=project,
                              env=full, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900,
                              check=False)
        assert "Traceback (most recent call last)" not in proc.stdout, proc.stdout
        try:
            result = json.loads(proc.stdout)
        except ValueError as exc:
            raise AssertionError(f"{script}: stdout is not one JSON object: {proc.stdout!r}\n{proc.stderr}") from exc
        assert isinstance(result, dict)
        return Run(proc.returncode, result, proc.stderr)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def test_validate_strict_passes_for_marketplace_and_plugin(tmp_path: Path) -> None:
    claude = ensure_claude_code()
    for target in (REPO, PLUGIN_SRC):
        done = claude_cli(claude, tmp_path, "plugin", "validate", "--strict", str(target))
        assert done.returncode == 0, f"validate --strict {target}:\n{done.stdout}\n{done.stderr}"
        assert "Validation passed" in done.stdout


def test_installed_plugin_runs_the_dev_and_production_flow(sqlite_project: PrismaProject, tmp_path: Path) -> None:
    claude = ensure_claude_code()
    home = tmp_path / "home"
    home.mkdir()

    added = claude_cli(claude, home, "plugin", "marketplace", "add", str(REPO), cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = claude_cli(claude, home, "plugin", "install", f"faber-db@{MARKETPLACE}", cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    records = json.loads((home / ".claude/plugins/installed_plugins.json").read_text("utf-8"))
    install_path = Path(records["plugins"][f"faber-db@{MARKETPLACE}"][0]["installPath"])
    assert install_path.is_dir() and home in install_path.parents, install_path
    assert (install_path / ".claude-plugin/plugin.json").is_file()
    assert (install_path / "hooks/hooks.json").is_file() and (install_path / "commands/migrate.md").is_file()
    assert not (install_path / "tests").exists()  # only plugins/faber-db is copied
    artefacts = [str(p.relative_to(install_path)) for p in install_path.rglob("*")
                 if p.name.endswith(".egg-info") or p.name in ("build", "dist")]
    assert not artefacts, f"build artefacts in the installed plugin: {artefacts}"

    plugin = InstalledPlugin(install_path, cache_dir() / "plugin-data-e2e", ensure_bare_python())
    before = snapshot(install_path)

    project = sqlite_project.root
    prod_db = tmp_path / "prod.db"
    assert sqlite_project.database_url is not None
    env = {"DEV_DATABASE_URL": sqlite_project.database_url, "STAGING_DATABASE_URL": sqlite_project.database_url,
           "PROD_DATABASE_URL": sqlite_url(prod_db)}

    # init (the first run bootstraps the venv under CLAUDE_PLUGIN_DATA)
    init = plugin.run(project, "handler-db-prisma/scripts/init.py", env=env)
    assert init.returncode == 0, init.result
    assert (project / ".fractary/plugins/faber-db/config.toml").is_file()
    venvs = [p for p in plugin.data.glob("venv-*") if (p / ".complete").is_file()]
    assert venvs, f"no bootstrapped venv under {plugin.data}"

    # generate a migration after adding a model
    sqlite_project.write_schema(DEFAULT_MODELS + POST_MODEL)
    generated = plugin.run(project, "handler-db-prisma/scripts/generate_migration.py", "add posts", env=env)
    assert generated.returncode == 0, generated.result
    assert generated.details["changes"] is True
    migration = generated.details["migration"]
    assert migration["name"].endswith("_add_posts") and 'CREATE TABLE "Post"' in migration["sql"]
    names = sqlite_project.migration_names()
    assert len(names) == 2 and names[-1] == migration["name"]

    apply_script = "handler-db-prisma/scripts/apply_migration.py"
    if not (install_path / "skills" / apply_script).is_file():
        pytest.skip(f"{apply_script} does not exist yet: the migrate steps of the e2e flow are skipped")

    # migrate dev: both migrations, no approval needed
    dev = plugin.run(project, apply_script, "dev", env=env)
    assert dev.returncode == 0, dev.result
    assert dev.details["applied"] == names

    # production: dry run -> plan; without --approve -> refused; with the plan id -> applied with a backup
    dry = plugin.run(project, apply_script, "production", "--dry-run", env=env)
    assert dry.returncode == 0, dry.result
    plan = dry.details["plan"]
    assert plan["plan_id"] and [m["name"] for m in plan["pending"]] == names

    refused = plugin.run(project, apply_script, "production", env=env)
    assert refused.returncode == 3 and "APPROVAL_REQUIRED" in refused.codes, refused.result
    assert refused.details["plan"]["plan_id"] is None  # a refusal shows the plan but hands out no id

    # the installed hook asks before exactly this command
    command = f"python3 {install_path}/skills/{apply_script} production --approve {plan['plan_id']}"
    hook = subprocess.run(["python3", str(install_path / "hooks/approval_gate.py")], cwd=project,
                          env=plugin.env({}), capture_output=True, text=True, timeout=30, check=False,
                          input=json.dumps({"session_id": "e2e", "transcript_path": str(tmp_path / "t.jsonl"),
                                            "cwd": str(project), "hook_event_name": "PreToolUse", "tool_name": "Bash",
                                            "tool_input": {"command": command, "description": "apply"}}))
    answer = json.loads(hook.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "ask" and plan["plan_id"] in answer["permissionDecisionReason"]

    applied = plugin.run(project, apply_script, "production", "--approve", plan["plan_id"], env=env)
    assert applied.returncode == 0, applied.result
    assert applied.details["applied"] == names
    assert applied.details["backup"] and applied.details["backup"]["verified"] is True

    status = plugin.run(project, "handler-db-prisma/scripts/status.py", "production", env=env)
    assert status.returncode == 0 and status.details["up_to_date"] is True, status.result

    # the installed copy itself was not written to (state and venv live under CLAUDE_PLUGIN_DATA)
    after = snapshot(install_path)
    written = sorted(set(after) - set(before)) + sorted(k for k in before if k in after and before[k] != after[k])
    assert not written, f"files written inside CLAUDE_PLUGIN_ROOT: {written[:10]}"


def _plugin_copy(tmp_path: Path) -> Path:
    """The plugin folder alone, as Claude Code copies it (without this checkout's bytecode)."""
    copy = tmp_path / "cache" / "faber-db" / "0.1.0"
    shutil.copytree(PLUGIN_SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _launcher_env(python_bin: Path, data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and k not in ("COLUMNS", "FABER_DB_QUIET")}
    env.update(PATH=f"{python_bin}{os.pathsep}{env.get('PATH', '')}", CLAUDE_PLUGIN_DATA=str(data), **extra)
    return env


def _unwrapped(text: str) -> str:
    """Progress lines as one line: wrapping breaks at spaces, and a path longer than a line after a `/`."""
    return re.sub(r"/ ", "/", " ".join(text.split()))


def _launch(plugin: Path, env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(plugin / "bin" / "faber-db"), *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=900, check=False)


def test_launcher_answers_help_version_and_usage_errors_without_a_venv(tmp_path: Path) -> None:
    plugin = _plugin_copy(tmp_path)
    data = tmp_path / "data"
    env = _launcher_env(ensure_bare_python(), data)
    before = snapshot(plugin)

    helped = _launch(plugin, env, "--help", cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: faber-db") and "generate-migration" in helped.stdout
    assert "exit codes: 0 success or warning" in helped.stdout
    sub_help = _launch(plugin, env, "migrate", "--help", cwd=tmp_path)
    assert sub_help.returncode == 0 and "--allow-destructive" in sub_help.stdout, sub_help.stderr
    version = _launch(plugin, env, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("faber-db "), version.stderr

    unknown = _launch(plugin, env, "migrat", "dev", cwd=tmp_path)
    assert unknown.returncode == 2, unknown.stderr
    result = json.loads(unknown.stdout)
    assert [e["code"] for e in result["errors"]] == ["USAGE"] and "invalid choice: 'migrat'" in result["message"]
    missing = _launch(plugin, env, "migrate", "--format", "text", cwd=tmp_path)  # what a person at a terminal gets
    assert missing.returncode == 2, missing.stderr
    assert missing.stdout.startswith("[FAILED] migrate: faber-db migrate: the following arguments are required")
    assert "Error USAGE" in missing.stdout and "Traceback" not in missing.stdout + missing.stderr

    for done in (helped, sub_help, version, unknown, missing):
        assert done.stderr == "", done.stderr  # no bootstrap, no progress: nothing was built
    assert not data.exists() or not list(data.glob("venv-*")), "a venv was built for --help/--version/usage"
    assert snapshot(plugin) == before, "the launcher wrote inside the plugin folder"


def test_first_real_command_offline_fails_clearly_then_online_builds_the_venv(tmp_path: Path) -> None:
    plugin = _plugin_copy(tmp_path)
    data = tmp_path / "data"
    project = tmp_path / "not-a-project"
    project.mkdir()
    python_bin = ensure_bare_python()
    before = snapshot(plugin)

    closed = "http://127.0.0.1:9/"  # nothing listens on the discard port
    offline = {k: v for k, v in _launcher_env(python_bin, data).items()
               if not k.upper().startswith(("PIP_", "UV_"))}
    offline.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=closed, UV_INDEX_URL=closed, UV_OFFLINE="1")
    failed = _launch(plugin, offline, "status", "dev", cwd=project)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    result = json.loads(failed.stdout)
    error = result["errors"][0]
    assert error["code"] == "RUNTIME_INSTALL_FAILED", result
    assert str(data) in error["message"] and "requirements.txt" in error["hint"], error
    assert str(plugin / "requirements.txt") in error["hint"]  # the exact command, with its real paths
    assert f"building its Python environment in {data}" in _unwrapped(failed.stderr)
    assert not list(data.glob("venv-*/.complete"))

    built = _launch(plugin, _launcher_env(python_bin, data), "status", "dev", cwd=project)
    said = _unwrapped(built.stderr)
    for step in (f"building its Python environment in {data}", "creating the virtual environment",
                 f"installing {plugin / 'requirements.txt'}", "Python environment ready"):
        assert step in said, built.stderr
    # the command itself then ran inside the new venv: no config in this folder is its own, ordinary error
    assert built.returncode == 2, built.stdout + built.stderr
    assert json.loads(built.stdout)["errors"][0]["code"] == "CONFIG_NOT_FOUND"
    assert list(data.glob("venv-*/.complete"))

    again = _launch(plugin, _launcher_env(python_bin, data), "status", "dev", cwd=project)
    assert again.returncode == 2 and "building" not in again.stderr, again.stderr  # built once
    assert snapshot(plugin) == before, "files written inside the plugin folder"
