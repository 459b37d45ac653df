"""scripts/setup installs into a fresh virtual environment, then finds it current and changes nothing.

The first run gets a new, empty venv (as a developer's first `scripts/test` would), from a working
directory outside the repo, and installs faber-db and its dev tools. The second run has no network:
pip and npm point at a closed loopback port with no config file of their own, and where this user may
create a network namespace (`unshare --net`, as root in CI) the run has no network interface at all. It
must succeed and leave the venv exactly as it was. A third run, after a dependency was removed by
hand, notices it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLOSED = "http://127.0.0.1:9/"  # the discard port: nothing listens there


def tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if "__pycache__" not in p.parts}


def without_network(command: list[str]) -> list[str]:
    """`command` inside a new network namespace when this user may make one, else unchanged."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "--net", *command]
    return command


def test_setup_twice_the_second_run_is_offline_and_changes_nothing(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True,
                   timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    setup = ["bash", str(REPO / "scripts" / "setup")]

    first = subprocess.run(setup, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "setup: installing faber-db" in first.stderr
    installed = subprocess.run([str(venv / "bin" / "python3"), "-c", "import faber_db; print(faber_db.__file__)"],
                               capture_output=True, text=True, check=True)
    assert Path(installed.stdout.strip()).is_relative_to(REPO / "plugins" / "faber-db" / "lib")
    assert (venv / "bin" / "faber-db").is_file()

    offline = {k: v for k, v in env.items() if not k.upper().startswith(("PIP_", "NPM_CONFIG_"))}
    offline.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=CLOSED, npm_config_registry=CLOSED)
    before = tree(venv)
    second = subprocess.run(without_network(setup), cwd=tmp_path, env=offline, capture_output=True, text=True,
                            timeout=300, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "setup: Python packages current" in second.stderr
    assert "installing" not in second.stderr
    assert tree(venv) == before

    # the check reads what is installed: a dependency removed by hand is noticed (and, offline, cannot
    # be installed again: the failure names it)
    subprocess.run([str(venv / "bin" / "python3"), "-m", "pip", "uninstall", "-q", "-y", "sqlglot"], check=True,
                   env=env, capture_output=True)
    third = subprocess.run(without_network(setup), cwd=tmp_path, env={**offline, "PIP_RETRIES": "0"},
                           capture_output=True, text=True, timeout=300, check=False)
    assert third.returncode != 0
    assert "installing faber-db" in third.stderr and "sqlglot is not installed" in third.stderr, third.stderr
