"""The installed plugin's entry: bytecode kept out of the plugin folder, dependencies made importable.

Claude Code copies only `plugins/faber-db/` into its cache, so the plugin cannot rely on a pip
install. `--help`, `--version` and usage errors need none of the dependencies: the CLI answers them
from the standard library before it calls `prepare_runtime`. The first real command creates a virtual
environment under ${CLAUDE_PLUGIN_DATA} (else the user cache dir), keyed by the requirements and the
Python version, installs requirements.txt into it (with `uv` when it is on PATH, else pip, reusing
their caches), and re-executes the same command with that venv's Python. One progress line per step
on stderr. Nothing is ever written inside the plugin root: the entry points start with bytecode
writing off (`python3 -B`, or `sys.dont_write_bytecode` in the skills' scripts), and a real command
writes it under the state dir. Standard library only: it runs before any dependency exists.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from faber_db.errors import FaberError

PLUGIN_ROOT = Path(__file__).resolve().parents[2]
LIB_DIR = PLUGIN_ROOT / "lib"
REQUIREMENTS = PLUGIN_ROOT / "requirements.txt"
_NEEDED = ("pydantic", "jinja2", "tomli_w", "pg8000", "pglast", "sqlglot")
_GUARD = "FABER_DB_BOOTSTRAPPED"
_COMPLETE = ".complete"
# pip gives up on an unreachable index after two retries (its default, five, took a minute offline)
_PIP_OPTIONS = ["--disable-pip-version-check", "--no-input", "--no-compile", "--progress-bar", "off", "--quiet",
                "--retries", "2", "--timeout", "15"]


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
    import hashlib

    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    return state_dir() / f"venv-{key}"


def plugin_main(argv: list[str]) -> int:
    """The CLI as the plugin runs it (`bin/faber-db`, the skills' scripts); a pip-installed package has
    its dependencies and its own bytecode, so it runs the CLI as it is."""
    from faber_db.cli import main

    return main(argv, prepare=prepare_runtime if REQUIREMENTS.is_file() else None)


def prepare_runtime() -> None:
    """Before a real command: bytecode from now on goes under the state dir (compiled once, read on
    later runs; the parser's few modules were compiled in memory), and the dependencies must import."""
    sys.pycache_prefix = str(state_dir() / "pycache")
    sys.dont_write_bytecode = False
    ensure_runtime()


def ensure_runtime() -> None:
    """Return when the dependencies import; otherwise build the venv (once) and re-exec into it."""
    if dependencies_present():
        return
    if not REQUIREMENTS.is_file():  # an installed package (pip install) missing its own dependencies
        raise FaberError("RUNTIME_INSTALL_FAILED", "faber-db's Python dependencies are not installed",
                         f"Reinstall it with its dependencies: {shlex.quote(sys.executable)} -m pip install faber-db")
    venv = venv_dir()
    python = venv / "bin" / "python"
    if os.environ.get(_GUARD):
        raise FaberError("RUNTIME_INSTALL_FAILED",
                         f"faber-db's dependencies do not import in its virtual environment {venv}",
                         f"Delete {venv} and run the command again; it is rebuilt from {REQUIREMENTS}.")
    if not (venv / _COMPLETE).is_file():
        import fcntl

        venv.parent.mkdir(parents=True, exist_ok=True)
        with open(venv.parent / f"{venv.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a second command started meanwhile waits for this build
            if not (venv / _COMPLETE).is_file():
                _build(venv)
    env = dict(os.environ)
    env[_GUARD] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LIB_DIR), env.get("PYTHONPATH", "")) if p)
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    sys.stderr.flush()
    os.execve(str(python), [str(python), *argv[1:]], env)


def _build(venv: Path) -> None:
    """Create `venv` and install requirements.txt into it; mark it complete only when it imports."""
    from faber_db.output import progress, progress_step

    python = venv / "bin" / "python"
    installer = _installer(python)
    progress(f"first run of this faber-db plugin: building its Python environment in {venv} (once per version)")
    if python.is_file() and _imports(python):  # built by hand after an earlier failure (the hint's command)
        (venv / _COMPLETE).write_text("ok\n")
        return
    shutil.rmtree(venv, ignore_errors=True)  # what an interrupted build left
    for message, command in installer.steps(venv):
        with progress_step(message):
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
            raise FaberError(
                "RUNTIME_INSTALL_FAILED",
                f"Could not install faber-db's Python dependencies into {venv} ({installer.name} failed; "
                "is the package index reachable?)",
                f"When it is (or with PIP_INDEX_URL / UV_INDEX_URL set to a mirror), run: {installer.by_hand(venv)}",
                details={"command": shlex.join(command), "output": output})
    (venv / _COMPLETE).write_text("ok\n")  # (a venv that then fails to import is reported after the re-exec)
    progress("Python environment ready")


def _imports(python: Path) -> bool:
    probe = subprocess.run([str(python), "-c", "import " + ", ".join(_NEEDED)], capture_output=True, check=False)
    return probe.returncode == 0


class _Installer:
    """How the venv is made, fastest first: `uv` (its own cache); this interpreter's pip installing into a
    venv without one; pip run from the wheel ensurepip ships (no pip installed into the venv: that alone
    took seconds); the venv's own pip. Each as the steps to run."""

    def __init__(self, name: str, python: Path, pip_wheel: Path | None = None) -> None:
        self.name = name
        self.python = python
        self.pip_wheel = pip_wheel

    def steps(self, venv: Path, *, by_hand: bool = False) -> list[tuple[str, list[str]]]:
        """(progress message, command) per step; `by_hand`: the plain commands a person would type."""
        base, requirements = sys.executable, str(REQUIREMENTS)
        quiet = [] if by_hand else ["--quiet"]
        pip_options = [] if by_hand else _PIP_OPTIONS
        if self.name == "uv":
            uv = shutil.which("uv") or "uv"
            return [(f"creating the virtual environment (uv venv, {_version()})",
                     [uv, "venv", *quiet, "--python", base, str(venv)]),
                    (f"installing {requirements} (uv pip install)",
                     [uv, "pip", "install", *quiet, "--python", str(self.python), "-r", requirements])]
        if self.name == "pip":  # this interpreter's pip installs into the new venv: no pip copied into it
            return [(f"creating the virtual environment ({_version()} -m venv --without-pip)",
                     [base, "-m", "venv", "--without-pip", str(venv)]),
                    (f"installing {requirements} (pip)",
                     [base, "-m", "pip", "--python", str(self.python), "install", *pip_options, "-r", requirements])]
        if self.name == "pip-wheel" and self.pip_wheel is not None:  # pip runs from its wheel (a zip)
            return [(f"creating the virtual environment ({_version()} -m venv --without-pip)",
                     [base, "-m", "venv", "--without-pip", str(venv)]),
                    (f"installing {requirements} (pip from {self.pip_wheel.name})",
                     [str(self.python), str(self.pip_wheel / "pip"), "install", *pip_options, "-r", requirements])]
        return [(f"creating the virtual environment with its own pip ({_version()} -m venv)",
                 [base, "-m", "venv", str(venv)]),
                (f"installing {requirements} (pip)",
                 [str(self.python), "-m", "pip", "install", *pip_options, "-r", requirements])]

    def by_hand(self, venv: Path) -> str:
        """The same install as one shell command a person can run (faber-db then uses that venv)."""
        return " && ".join(shlex.join(command) for _, command in self.steps(venv, by_hand=True))


def _installer(python: Path) -> _Installer:
    if shutil.which("uv"):
        return _Installer("uv", python)
    if _pip_can_target_another_python():
        return _Installer("pip", python)
    if importlib.util.find_spec("ensurepip") is not None:
        wheel = _bundled_pip_wheel()
        return _Installer("pip-wheel", python, wheel) if wheel else _Installer("venv-pip", python)
    raise FaberError("RUNTIME_INSTALL_FAILED",
                     f"{sys.executable} has neither pip nor ensurepip, and uv is not on PATH: faber-db cannot "
                     "install its Python dependencies",
                     "Install uv (https://docs.astral.sh/uv/) or your system's venv package "
                     "(Debian/Ubuntu: apt-get install python3-venv), then run the command again.")


def _bundled_pip_wheel() -> Path | None:
    """The newest pip wheel ensurepip would install: CPython's bundled one, or the distribution's
    (WHEEL_PKG_DIR, e.g. Debian's /usr/share/python-wheels)."""
    import ensurepip
    import sysconfig

    folders = [Path(ensurepip.__file__).parent / "_bundled", Path(sysconfig.get_config_var("WHEEL_PKG_DIR") or "")]
    wheels = [w for folder in folders if str(folder) and folder.is_dir() for w in folder.glob("pip-*.whl")]

    def version(wheel: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in wheel.name.split("-")[1].split(".") if part.isdigit())

    return max(wheels, key=version, default=None)


def _pip_can_target_another_python() -> bool:
    """pip >= 22.3 (`pip --python`) in this interpreter."""
    spec = importlib.util.find_spec("pip")
    if spec is None or spec.origin is None:
        return False
    version_line = next((line for line in Path(spec.origin).read_text("utf-8").splitlines()
                         if line.startswith("__version__")), "")
    digits = version_line.split("=", 1)[-1].strip().strip("\"'").split(".")
    try:
        return (int(digits[0]), int(digits[1])) >= (22, 3)
    except (IndexError, ValueError):
        return False


def _version() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def run_command(command: str) -> NoReturn:
    """What each thin script under skills/*/scripts does: `faber-db <command> <its arguments>`."""
    from faber_db.cli import exit_process

    exit_process(plugin_main([command, *sys.argv[1:]]))
