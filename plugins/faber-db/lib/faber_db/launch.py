"""Bootstrap for the installed plugin copy: make sure faber-db's dependencies are importable.

Claude Code copies only `plugins/faber-db/` into its cache, so the plugin cannot rely on a pip
install. On first use this creates a virtual environment under ${CLAUDE_PLUGIN_DATA} (else the
user cache dir), keyed by the requirements and the Python version, installs requirements.txt
into it, and re-executes the same command with that venv's Python. It never writes inside the
plugin root. Standard library only: it runs before any dependency exists.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

PLUGIN_ROOT = Path(__file__).resolve().parents[2]
LIB_DIR = PLUGIN_ROOT / "lib"
REQUIREMENTS = PLUGIN_ROOT / "requirements.txt"
_NEEDED = ("pydantic", "jinja2", "tomli_w", "pg8000")
_GUARD = "FABER_DB_BOOTSTRAPPED"


def state_dir() -> Path:
    """Where faber-db keeps its own state: ${CLAUDE_PLUGIN_DATA}, else the user cache dir."""
    base = os.environ.get("CLAUDE_PLUGIN_DATA")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "faber-db"


def dependencies_present() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in _NEEDED)


def venv_dir() -> Path:
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    return state_dir() / f"venv-{key}"


def _fail(message: str) -> None:
    import json

    sys.stdout.write(json.dumps({
        "status": "failure", "operation": "bootstrap", "environment": None, "message": message,
        "details": None, "warnings": [],
        "errors": [{"code": "INTERNAL_ERROR", "message": message,
                    "hint": "Check network access to PyPI, or pip install faber-db's requirements yourself."}],
        "suggested_fixes": [], "duration_ms": 0}) + "\n")
    sys.exit(1)


def keep_bytecode_out_of_plugin() -> None:
    """Compiled bytecode goes under the state dir: nothing is ever written inside the plugin root."""
    sys.pycache_prefix = str(state_dir() / "pycache")
    sys.dont_write_bytecode = False


def ensure_runtime() -> None:
    """Return when dependencies import; otherwise build the venv (once) and re-exec into it."""
    keep_bytecode_out_of_plugin()
    if dependencies_present():
        return
    if os.environ.get(_GUARD):
        _fail("faber-db's dependencies are still missing after bootstrapping its virtual environment")
    venv = venv_dir()
    python = venv / "bin" / "python"
    if not (venv / ".complete").is_file():
        sys.stderr.write(f"faber-db: first run, installing dependencies into {venv} …\n")
        import subprocess

        venv.parent.mkdir(parents=True, exist_ok=True)
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(REQUIREMENTS)],
        ]
        for step in steps:
            done = subprocess.run(step, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr)
            if done.returncode != 0:
                _fail(f"Could not set up faber-db's virtual environment ({step[2]} failed)")
        (venv / ".complete").write_text("ok\n")
    env = dict(os.environ)
    env[_GUARD] = "1"
    env["PYTHONPYCACHEPREFIX"] = str(state_dir() / "pycache")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LIB_DIR), env.get("PYTHONPATH", "")) if p)
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    os.execve(str(python), [str(python), *argv[1:]], env)


def run_command(command: str) -> None:
    """What each thin script under skills/*/scripts does: `faber-db <command> <its arguments>`."""
    ensure_runtime()
    from faber_db.cli import main

    sys.exit(main([command, *sys.argv[1:]]))
