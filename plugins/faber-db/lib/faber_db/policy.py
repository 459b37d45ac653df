"""The rules faber-db's CLI and its approval gate (the PreToolUse hook) share.

Which operations change a database, which skill script runs which command, where the project is,
which environments are protected and which variables hold their URLs, and whether faber-db runs
under an AI agent. Standard library only (Python 3.10+; tomllib, else tomli when present): the hook
imports this module with the system Python, before faber-db's virtual environment exists, so there
is exactly one copy of these rules.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from faber_db.handlers import DEFAULT_TOOL, known_tools, tool_facts

CONFIG_DIR = PurePosixPath(".fractary/plugins/faber-db")
CONFIG_TOML = CONFIG_DIR / "config.toml"
CONFIG_JSON = CONFIG_DIR / "config.json"
PLANS_DIR = CONFIG_DIR / "plans"
DEFAULT_MIGRATIONS_DIR = tool_facts(DEFAULT_TOOL).default_migrations_dir

# Operations that change an environment's database. `faber` changes one only in the phases below.
MUTATING_OPERATIONS: frozenset[str] = frozenset({"migrate", "rollback", "restore", "db-create", "faber"})
# The FABER phases that apply migrations, and the environment each applies to (faber.phase_steps).
MUTATING_FABER_PHASES: dict[str, str] = {"build": "dev", "evaluate": "staging", "release": "production"}

# skill script (relative to the plugin root) -> the faber-db command it runs (its run_command(...))
SCRIPT_COMMANDS: dict[str, str] = {
    "skills/backup-manager/scripts/audit.py": "audit",
    "skills/backup-manager/scripts/backup.py": "backup",
    "skills/backup-manager/scripts/backups.py": "backups",
    "skills/backup-manager/scripts/restore.py": "restore",
    "skills/backup-manager/scripts/rollback.py": "rollback",
    "skills/db-initializer/scripts/db_create.py": "db-create",
    "skills/faber-coordinator/scripts/faber_phase.py": "faber",
    "skills/health-checker/scripts/health_check.py": "health-check",
    # each migration tool's own skill scripts
    **{script: command for facts in known_tools().values() for script, command in facts.skill_scripts.items()},
}

# The file names of every migration tool's own config (they name the database URL's variable).
TOOL_CONFIG_NAMES = frozenset(name for facts in known_tools().values() for name in facts.config_names)


# --- project discovery -------------------------------------------------------------------------


def is_project_folder(directory: Path) -> bool:
    """A faber-db config or a migration tool's project lives in this folder."""
    try:
        if (directory / CONFIG_TOML).is_file() or (directory / CONFIG_JSON).is_file():
            return True
        for facts in known_tools().values():
            # a tool's own folder holds its files: its parent is the project, as the tool resolves it
            inside_own = directory.name == facts.own_folder
            files = [name for name in facts.project_files if "/" in name or not inside_own] + list(facts.config_names)
            if any((directory / name).is_file() for name in files):
                return True
            if any((directory / name).is_dir() for name in facts.project_dirs):
                return True
        return False
    except OSError:  # unreadable folder (permissions, name too long): not a project we can use
        return False


def find_project_root(start: Path, environ: Mapping[str, str]) -> tuple[Path | None, list[Path]]:
    """The project folder and every folder searched for it.

    $CLAUDE_DB_CWD when set (relative to `start`); else the nearest folder upwards from `start`
    holding a faber-db config or a migration tool's project, stopping at the git root (inclusive), so a
    project in a monorepo's `apps/api` or a demo in a subfolder is found from inside it.
    """
    explicit = environ.get("CLAUDE_DB_CWD")
    if explicit:
        chosen = Path(os.path.abspath(start / explicit)).resolve()
        return chosen, [chosen]
    searched: list[Path] = []
    here = Path(os.path.abspath(start))
    try:
        here = here.resolve()
    except (OSError, RuntimeError):  # a symlink loop: search the path as written
        pass
    for directory in (here, *here.parents):
        searched.append(directory)
        if is_project_folder(directory):
            return directory, searched
        try:
            at_git_root = (directory / ".git").exists()
        except OSError:
            at_git_root = False
        if at_git_root:
            break
    return None, searched


# --- protection from the real config -----------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentPolicy:
    """One environment as far as approval is concerned."""

    name: str
    aliases: tuple[str, ...]
    protected: bool
    url_env: str
    shadow_url_env: str | None = None


@dataclass(frozen=True)
class Protection:
    """Which environments of one project are protected, from its config (or the defaults).

    With `error` set the config could not be read: every name counts as protected and unknown.
    """

    project_root: Path
    source: str
    environments: dict[str, EnvironmentPolicy] = field(default_factory=dict)
    migrations_dir: str = DEFAULT_MIGRATIONS_DIR
    config_path: Path | None = None
    error: str | None = None

    def canonical(self, name: str) -> str | None:
        """The environment's own name for a name or alias; None when the config does not define it."""
        if self.error is not None:
            return None
        for env in self.environments.values():
            if name == env.name or name in env.aliases:
                return env.name
        return None

    def is_protected(self, name: str) -> bool:
        """Protected, or unknown to a config that could not be read (fail closed)."""
        canonical = self.canonical(name)
        return self.error is not None or (canonical is not None and self.environments[canonical].protected)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(n for env in self.environments.values() for n in (env.name, *env.aliases))

    @property
    def url_variables(self) -> frozenset[str]:
        """Every variable that holds a URL of this project's environments (protected or not)."""
        return frozenset(v for env in self.environments.values()
                         for v in (env.url_env, env.shadow_url_env) if v)

    @property
    def protected_url_variables(self) -> frozenset[str]:
        return frozenset(v for env in self.environments.values() if env.protected
                         for v in (env.url_env, env.shadow_url_env) if v)


def default_protection(project_root: Path, source: str = "defaults (no config)") -> Protection:
    """What `faber-db init` writes: dev, staging, production (alias prod, protected)."""
    envs = {
        "dev": EnvironmentPolicy("dev", (), False, "DEV_DATABASE_URL"),
        "staging": EnvironmentPolicy("staging", (), False, "STAGING_DATABASE_URL"),
        "production": EnvironmentPolicy("production", ("prod",), True, "PROD_DATABASE_URL"),
    }
    return Protection(project_root, source, envs)


def config_file(project_root: Path, environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file that governs `project_root` (FABER_DB_CONFIG, config.toml, config.json) and
    whether it was named explicitly."""
    override = environ.get("FABER_DB_CONFIG")
    if override:
        path = Path(override)
        return (path if path.is_absolute() else project_root / path), True
    toml_path = project_root / CONFIG_TOML
    json_path = project_root / CONFIG_JSON
    if not toml_path.is_file() and json_path.is_file():
        return json_path, False
    return toml_path, False


_MAX_CONFIG_BYTES = 1 << 20


def protection(project_root: Path, environ: Mapping[str, str]) -> Protection:
    """The project's protected environments, from the config faber-db itself would read."""
    path, explicit = config_file(project_root, environ)
    try:
        if not path.is_file():
            if explicit:
                return _unreadable(project_root, path, f"FABER_DB_CONFIG names a missing file ({path})")
            return default_protection(project_root)
        with path.open("rb") as handle:
            raw = handle.read(_MAX_CONFIG_BYTES + 1)
        if len(raw) > _MAX_CONFIG_BYTES:
            return _unreadable(project_root, path, f"{path.name} is larger than 1 MB")
        text = raw.decode("utf-8")
        if path.suffix == ".json":
            envs, migrations = _from_legacy_json(json.loads(text))
        else:
            envs, migrations = _from_toml(_toml_loads(text))
    except (OSError, ValueError, TypeError, RecursionError, _TomlError) as exc:
        return _unreadable(project_root, path, f"cannot read {path.name}: {exc}")
    return Protection(project_root, str(path), envs, migrations, path)


def _unreadable(project_root: Path, path: Path, why: str) -> Protection:
    return Protection(project_root, str(path), {}, DEFAULT_MIGRATIONS_DIR, path, why)


class _TomlError(Exception):
    """No TOML parser, or the parser's own error (whose class depends on which parser loaded)."""


def _toml_loads(text: str) -> Any:
    for name in ("tomllib", "tomli"):  # Python 3.11+, else tomli when installed
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        try:
            return module.loads(text)
        except module.TOMLDecodeError as exc:
            raise _TomlError(str(exc)) from None
    raise _TomlError("no TOML parser (Python < 3.11 without tomli)")


def _name_list(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ValueError(f"{key} is not a list of names")
    return tuple(value)


def _optional_str(value: Any, key: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{key} is not a string")


def _from_toml(data: Any) -> tuple[dict[str, EnvironmentPolicy], str]:
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict) or not data["environments"]:
        raise ValueError("no [environments] table")
    envs: dict[str, EnvironmentPolicy] = {}
    seen: set[str] = set()
    for name, env in data["environments"].items():
        key = f"environments.{name}"
        if not isinstance(env, dict):
            raise ValueError(f"{key} is not a table")
        protected = env.get("protected", False)
        if not isinstance(protected, bool):
            raise ValueError(f"{key}.protected is not a boolean")
        url_env = env.get("url_env")
        if not isinstance(url_env, str) or not url_env:
            raise ValueError(f"{key}.url_env is missing")
        aliases = _name_list(env.get("aliases"), f"{key}.aliases")
        for alias in (name, *aliases):
            if alias in seen:  # faber-db rejects a name used twice; so must the gate
                raise ValueError(f"the name {alias!r} is used by two environments")
            seen.add(alias)
        envs[name] = EnvironmentPolicy(name, aliases, protected, url_env,
                                       _optional_str(env.get("shadow_url_env"), f"{key}.shadow_url_env"))
    database = data.get("database", {})
    tool = tool_facts(database.get("migration_tool", DEFAULT_TOOL) if isinstance(database, dict) else DEFAULT_TOOL)
    # the migration tool's folder, from the tool's own section (as config.py reads it)
    section, default = tool.name, tool.default_migrations_dir
    table = data.get(section, {})
    migrations = table.get("migrations_dir", default) if isinstance(table, dict) else None
    if not isinstance(migrations, str):
        raise ValueError(f"{section}.migrations_dir is not a string")
    return envs, migrations


def _from_legacy_json(data: Any) -> tuple[dict[str, EnvironmentPolicy], str]:
    """The original plugin's config.json, read as config.legacy_json_to_config_dict reads it."""
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict) or not data["environments"]:
        raise ValueError("no environments object")
    safety = data.get("safety") or {}
    if not isinstance(safety, dict):
        raise ValueError("safety is not an object")
    listed = set(_name_list(safety.get("protected_environments"), "safety.protected_environments") or ["production"])
    envs: dict[str, EnvironmentPolicy] = {}
    for name, env in data["environments"].items():
        if not isinstance(env, dict):
            raise ValueError(f"environments.{name} is not an object")
        url_env = env.get("connection_string_env", f"{name.upper()}_DATABASE_URL")
        if not isinstance(url_env, str):
            raise ValueError(f"environments.{name}.connection_string_env is not a string")
        envs[name] = EnvironmentPolicy(name, (), bool(env.get("require_approval")) or name in listed, url_env)
    migrations = data.get("migrations") or {}
    # the original plugin knew one tool, the default one
    directory = migrations.get("directory", DEFAULT_MIGRATIONS_DIR) if isinstance(migrations, dict) else None
    if not isinstance(directory, str):
        raise ValueError("migrations.directory is not a string")
    return envs, directory


# --- running under an AI agent -----------------------------------------------------------------

# The AI-agent detection agent-aware CLIs share (a migration tool's CLI refuses some commands under an
# agent): variable -> agent, when set to anything.
AGENT_VARIABLES: dict[str, str] = {
    "CLAUDECODE": "Claude Code",
    "CODEX_THREAD_ID": "Codex CLI",
    "CODEX_CI": "Codex CLI",
    "CODEX_SANDBOX": "Codex CLI",
    "CODEX_SANDBOX_NETWORK_DISABLED": "Codex CLI",
    "GEMINI_CLI": "Gemini CLI",
    "QWEN_CODE": "Qwen Code",
    "CURSOR_AGENT": "Cursor",
    "COPILOT_CLI": "GitHub Copilot CLI",
    "OPENCODE": "OpenCode",
    "OPENCODE_CLIENT": "OpenCode",
    "CLINE_ACTIVE": "Cline",
    "CRUSH": "Crush",
    "AUGMENT_AGENT": "Augment Code",
    "ANTIGRAVITY_AGENT": "Antigravity",
    "AI_AGENT": "an AI agent",
    "AGENT": "an AI agent",
}
# ... and variable -> (value, agent) where only one value marks it
AGENT_VALUES: dict[str, tuple[str, str]] = {"OR_APP_NAME": ("Aider", "Aider")}
AGENT_FILES: dict[str, str] = {"/opt/.devin": "Devin"}
_CLAUDE_PROGRAM_NAMES = frozenset({"claude", "claude-code"})
_MAX_ANCESTORS = 64


def agent_marker(environ: Mapping[str, str], pid: int | None = None) -> str | None:
    """Why faber-db is running under an AI agent, or None.

    The variables and files agent-aware CLIs check, and a `claude` process among the ancestors of `pid`
    (default: this process), so that unsetting CLAUDECODE is not enough.
    """
    for name, agent in AGENT_VARIABLES.items():
        if environ.get(name):
            return f"{name} is set ({agent})"
    for name, (value, agent) in AGENT_VALUES.items():
        if environ.get(name) == value:
            return f"{name}={value} ({agent})"
    if environ.get("REPLIT_SESSION", "").startswith("agent-"):
        return "REPLIT_SESSION names an agent session (Replit Agent)"
    for path, agent in AGENT_FILES.items():
        if os.path.exists(path):
            return f"{path} exists ({agent})"
    ancestor = claude_ancestor(os.getpid() if pid is None else pid)
    if ancestor is not None:
        return f"a Claude Code process (pid {ancestor}) is an ancestor"
    return None


def claude_ancestor(pid: int) -> int | None:
    """The pid of a Claude Code process among pid's ancestors (from /proc), or None."""
    seen: set[int] = set()
    current = _parent_pid(pid)
    while current is not None and current > 1 and current not in seen and len(seen) < _MAX_ANCESTORS:
        seen.add(current)
        if _is_claude_process(current):
            return current
        current = _parent_pid(current)
    return None


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("utf-8", "replace")
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None


def _is_claude_process(pid: int) -> bool:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text("utf-8", "replace").strip()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if comm in _CLAUDE_PROGRAM_NAMES:
        return True
    words = [w.decode("utf-8", "replace") for w in argv[:4] if w]
    if words and PurePosixPath(words[0]).name in _CLAUDE_PROGRAM_NAMES:
        return True
    # the npm package run by node: node .../@anthropic-ai/claude-code/cli.js
    return any("@anthropic-ai/claude-code/" in w for w in words[1:3])
