"""Progress on stderr as a person (at a terminal, under tmux) and a log reader (a pipe) see it.

A small program runs faber-db's progress steps the way an operation does: a quick step, a long step
with progress lines from inside it (what a deploy prints while Prisma runs), and a long message. At a
terminal the long step's line shows a live timer that keeps counting; in a pipe there are plain lines
only: the step, that it is still running, and when it ended. Every line fits the width, broken at
spaces. The program waits at marker files, so the screen is read at known moments, not after sleeps.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "plugins" / "faber-db" / "lib"
LONG = ("applying 20261124182052_add_posts to production while other sessions wait for the lock "
        "held by prisma migrate deploy, which can take a while on a large table")
PROGRAM = textwrap.dedent(f"""
    import sys, time
    from pathlib import Path
    from faber_db import output

    output.PLAIN_EVERY = 0.5
    here = Path(sys.argv[1])

    def wait_for(name):
        (here / f"at-{{name}}").write_text("")
        while not (here / f"go-{{name}}").exists():
            time.sleep(0.05)

    with output.progress_step("a quick step that is never shown", after=1.0):
        pass
    with output.progress_step("deploying migrations (prisma migrate deploy)"):
        output.progress({LONG!r})
        time.sleep(1.6)
        wait_for("running")
    output.progress("done: 2 migration(s) applied")
    wait_for("end")
""")


def _env(width: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FABER_DB_QUIET", "COLUMNS")}
    env.update(PYTHONPATH=str(LIB), COLUMNS=str(width), TERM="xterm")
    return env


def _release(folder: Path, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (folder / f"at-{name}").exists():
        assert time.monotonic() < deadline, f"the program never reached {name}"
        time.sleep(0.05)


def _check_lines(lines: list[str], width: int) -> None:
    assert lines
    for line in lines:
        assert len(line) <= width, f"{len(line)} columns: {line!r}"
    assert LONG in " ".join(" ".join(lines).split())  # the long message wrapped at spaces: every word whole


@pytest.mark.parametrize("width", [80, 50])
def test_progress_in_a_pipe_is_plain_lines(tmp_path: Path, width: int) -> None:
    script = tmp_path / "steps.py"
    script.write_text(PROGRAM)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=_env(width), stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    for name in ("running", "end"):
        _release(tmp_path, name)
        (tmp_path / f"go-{name}").write_text("")
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "\r" not in stderr and "\x1b" not in stderr  # nothing rewritten in a log
    lines = stderr.splitlines()
    _check_lines(lines, width)
    flat = " ".join(stderr.split())
    assert "quick step" not in flat  # under a second: not shown
    assert re.match(r"\[faber-db +\d+\.\ds\] deploying migrations \(prisma migrate deploy\) \[faber-db", flat), flat
    notes = [line for line in lines if line.startswith("[faber-db ") and "deploying" in line][1:]
    assert notes and all(re.search(r"^\[faber-db +\d+\.\ds\] deploying.*: still running \(\d+s\)$", n)
                         for n in notes[:-1]), notes  # one line each, the step's message cut to fit
    assert re.search(r"^\[faber-db +\d+\.\ds\] deploying.*: done \(\d+\.\ds\)$", notes[-1]), notes
    assert flat.endswith("] done: 2 migration(s) applied")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (scripts/setup installs it)")
@pytest.mark.parametrize("width", [80, 50])
def test_progress_at_a_terminal_has_a_live_timer(tmp_path: Path, width: int) -> None:
    script = tmp_path / "steps.py"
    script.write_text(PROGRAM)
    session = f"faber-progress-{os.getpid()}-{width}"
    socket = tmp_path / "tmux.sock"
    env = _env(width)
    tmux = ["tmux", "-S", str(socket)]
    shell = f"{sys.executable} {script} {tmp_path}; echo EXITED $?; sleep 60"
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", str(width), "-y", "40", shell], env=env,
                   check=True, timeout=30)
    try:
        def screen() -> list[str]:
            done = subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                                  check=True, timeout=30)
            return [line.rstrip() for line in done.stdout.splitlines() if line.strip()]

        _release(tmp_path, "running")
        first = screen()
        time.sleep(0.8)  # a few ticks: the live line must have been redrawn with a larger time
        second = screen()
        for lines in (first, second):
            _check_lines(lines, width)
            # the live line is last, on one row (cut with … where the terminal is narrow)
            assert re.match(r"\[faber-db +\d+\.\ds\] deploying migrations ", lines[-1]), lines
        timer = [float(line.rsplit("(", 1)[1].rstrip("s)")) for line in (first[-1], second[-1])]
        assert 1.0 <= timer[0] < timer[1], (first[-1], second[-1])
        assert not any("quick step" in line for line in first)

        (tmp_path / "go-running").write_text("")
        _release(tmp_path, "end")
        (tmp_path / "go-end").write_text("")
        deadline = time.monotonic() + 30
        while not any(line.startswith("EXITED") for line in screen()):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        final = screen()
        assert final[-1] == "EXITED 0"
        _check_lines(final[:-1], width)
        flat = " ".join(" ".join(final).split())
        # the live line became one final line with the step's time, wrapped like any other
        assert len(re.findall(r"deploying migrations \(prisma migrate deploy\) \(\d+\.\ds\)", flat)) == 1, final
        assert flat.count("deploying migrations") == 1, final
        assert flat.endswith("] done: 2 migration(s) applied EXITED 0")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=30, check=False)
