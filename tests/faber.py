"""Run the `faber-db` CLI the way users and agents do: a subprocess in the project folder, stdout a
pipe (so the result is JSON), no CLAUDE_DB_CWD, and faber-db's own state in a throw-away folder.

`run_faber(...)` returns a FaberRun; it also unpacks as `code, result, stderr = run_faber(...)`,
which checks that stdout is exactly one JSON object and that no traceback leaked anywhere.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import engine_env

# Variables a developer's shell may carry that would change what faber-db does under test.
_SCRUBBED = (
    "CLAUDE_DB_CWD",
    "FABER_DB_CONFIG",
    "FABER_DB_QUIET",
    "DATABASE_URL",
    "DEV_DATABASE_URL",
    "STAGING_DATABASE_URL",
    "PROD_DATABASE_URL",
    "PRISMA_SCHEMA_ENGINE_BINARY",
)

ENVELOPE_KEYS = frozenset(
    {"status", "operation", "environment", "message", "details", "warnings", "errors", "suggested_fixes",
     "duration_ms"}
)

_STATE: Path | None = None


@dataclass
class FaberRun:
    returncode: int
    stdout: str
    stderr: str
    args: tuple[str, ...] = ()

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def checked(self) -> dict[str, Any]:
        """The one JSON object on stdout; AssertionError when stdout is anything else or a traceback leaked."""
        assert "Traceback (most recent call last)" not in self.stdout + self.stderr, str(self)
        try:
            return parse_single_json(self.stdout)
        except (AssertionError, ValueError) as exc:
            raise AssertionError(f"{exc}\n{self}") from None

    def __iter__(self) -> Iterator[Any]:
        """`code, result, stderr = run_faber(...)`."""
        return iter((self.returncode, self.checked(), self.stderr))

    def __str__(self) -> str:
        return f"faber-db {' '.join(self.args)}: exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def faber_argv() -> list[str]:
    """The installed console script beside this Python (no pyenv shim), else `python -m faber_db`."""
    beside = Path(sys.executable).parent / "faber-db"
    if beside.is_file():
        return [str(beside)]
    return [sys.executable, "-m", "faber_db"]


def default_state_dir() -> Path:
    """One CLAUDE_PLUGIN_DATA for the whole test process (removed at exit): never the user's cache."""
    global _STATE
    if _STATE is None:
        _STATE = Path(tempfile.mkdtemp(prefix="faber-db-test-state-"))
        atexit.register(shutil.rmtree, _STATE, True)
    return _STATE


def faber_env(env: dict[str, str | None] | None = None) -> dict[str, str]:
    """os.environ without the variables above, CLAUDE_PLUGIN_DATA in a temp dir, quiet Prisma, then
    `env` on top (a None value removes a variable)."""
    out = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    out.update(CLAUDE_PLUGIN_DATA=str(default_state_dir()), PRISMA_HIDE_UPDATE_MESSAGE="1", CHECKPOINT_DISABLE="1")
    for key, value in (env or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def run_faber(
    project_root: Path, *args: str, env: dict[str, str | None] | None = None, timeout: float = 120
) -> FaberRun:
    """`faber-db <args>` in project_root; stdin is /dev/null, stdout and stderr are pipes. A project
    built on a test kit gets the kit's engine (harness.engine_env), as a user's machine has its own."""
    node_modules = project_root / "node_modules"
    kit = engine_env(node_modules) if node_modules.is_dir() else {}
    proc = subprocess.run(
        [*faber_argv(), *args],
        cwd=project_root,
        env=faber_env({**kit, **(env or {})}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return FaberRun(proc.returncode, proc.stdout, proc.stderr, tuple(args))


def parse_single_json(stdout: str) -> dict[str, Any]:
    """stdout must be exactly one JSON object (surrounding whitespace allowed), nothing else."""
    text = stdout.strip()
    assert text.startswith("{"), f"stdout is not a JSON object:\n{stdout}"
    value, end = json.JSONDecoder().raw_decode(text)
    assert end == len(text), f"stdout has more than one JSON value:\n{stdout}"
    assert isinstance(value, dict), f"stdout JSON is not an object:\n{stdout}"
    return value


def error_code(result: dict[str, Any]) -> str | None:
    errors = result.get("errors") or []
    return errors[0]["code"] if errors else None


def describe(result: dict[str, Any], stderr: str = "") -> str:
    """A readable assertion message."""
    return json.dumps(result, indent=2) + (f"\nstderr:\n{stderr}" if stderr else "")


def write_config(
    project_root: Path,
    provider: str,
    *,
    environments: dict[str, dict[str, Any]] | None = None,
    extra: str = "",
    path: Path | None = None,
) -> Path:
    """Write a hand-made config.toml (what a user might type): [database] and [environments.*]."""
    envs = environments or {"dev": {"url_env": "DEV_DATABASE_URL"}}
    lines = ["[database]", f'provider = "{provider}"', ""]
    for name, values in envs.items():
        lines.append(f"[environments.{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    target = path or project_root / ".fractary" / "plugins" / "faber-db" / "config.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + extra)
    return target


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every path under root (symlinks not followed) -> sha256 of a file's bytes, 'dir' or 'link'."""
    snap: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames:
            path = base / name
            snap[str(path.relative_to(root))] = "link" if path.is_symlink() else "dir"
        for name in filenames:
            path = base / name
            rel = str(path.relative_to(root))
            snap[rel] = "link" if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
    return snap
