"""Running the Prisma CLI: which executable, which version, and every call non-interactive (stdin
/dev/null or a pipe, an argument list, never a shell), in its own process group that is killed on
timeout, Ctrl-C or any error, and that dies with faber-db (PR_SET_PDEATHSIG). Output comes back
redacted.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.handlers.prisma.project import installed_version
from faber_db.redact import redact

if TYPE_CHECKING:
    import subprocess


class PrismaCli:
    """The project's Prisma CLI: `command` when configured, else `node_modules/.bin/prisma`."""

    def __init__(self, root: Path, command: Sequence[str], timeout: float) -> None:
        self.root = root
        self.command = tuple(command)
        self.timeout = timeout

    def argv(self) -> list[str]:
        if self.command:
            return list(self.command)
        local = self.root / "node_modules" / ".bin" / "prisma"
        if local.exists():
            return [str(local)]
        raise FaberError(
            "PRISMA_NOT_FOUND",
            "The Prisma CLI is not installed in this project (no node_modules/.bin/prisma)",
            "Run `npm install --save-dev prisma` in the project, or set prisma.command in the config.",
        )

    def version(self) -> str | None:
        """The project's Prisma version, read from its package.json (no subprocess)."""
        return installed_version(self.root)

    def major(self) -> int:
        version = self.version()
        try:
            return int(version.split(".")[0]) if version else 6
        except ValueError:
            return 6

    def run(self, args: list[str], *, env: dict[str, str], timeout: float | None = None,
            stdin_text: str | None = None, while_running: Callable[[], None] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """Run one Prisma command non-interactive in its own process group, which is killed on timeout,
        Ctrl-C or any error (`while_running`'s included), so no Prisma process outlives faber-db.
        `while_running`: called once Prisma has started, before its output is read."""
        import subprocess

        limit = timeout if timeout is not None else self.timeout
        process: subprocess.Popen[str] | None = None
        try:
            process = subprocess.Popen(
                [*self.argv(), *args], cwd=self.root, env=env,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_own_group)
            if while_running is not None:
                while_running()
            stdout, stderr = process.communicate(stdin_text, timeout=limit)
            return subprocess.CompletedProcess(args, process.returncode, redact(stdout), redact(stderr))
        except subprocess.TimeoutExpired:
            raise FaberError("PRISMA_TIMEOUT", f"prisma {' '.join(args[:2])} did not finish in {limit:g} s",
                             "Raise prisma.timeout_seconds in the config or pass --timeout.") from None
        except FileNotFoundError:
            raise FaberError("PRISMA_NOT_FOUND", "Cannot run the Prisma CLI",
                             "Install Prisma in the project or fix prisma.command in the config.") from None
        finally:
            if process is not None and process.poll() is None:
                kill_group(process)

    def stream(self, args: list[str], *, env: dict[str, str], timeout: float | None = None,
               on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[str]:
        """One Prisma command whose output lines (stdout and stderr, redacted) go to `on_line` as they come."""
        import subprocess
        import threading

        limit = timeout if timeout is not None else self.timeout
        argv = [*self.argv(), *args]
        try:
            process = subprocess.Popen(argv, cwd=self.root, env=env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, preexec_fn=_own_group)
        except FileNotFoundError:
            raise FaberError("PRISMA_NOT_FOUND", f"Cannot run {argv[0]!r}",
                             "Install Prisma in the project or fix prisma.command in the config.") from None
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            kill_group(process)

        timer = threading.Timer(limit, expire)
        timer.daemon = True
        timer.start()
        lines: list[str] = []
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                line = redact(raw.rstrip("\n"))
                lines.append(line)
                if on_line:
                    on_line(line)
            process.wait()
        except BaseException:
            kill_group(process)  # Ctrl-C or a kill of faber-db: take Prisma down with us
            raise
        finally:
            timer.cancel()
        if timed_out.is_set():
            what = " ".join(args[:2])
            raise FaberError("PRISMA_TIMEOUT", f"prisma {what} did not finish in {limit:g} s",
                             "Raise --timeout (or prisma.timeout_seconds) if the migrations are slow.",
                             details={"prisma_output": "\n".join(lines[-25:])})
        return subprocess.CompletedProcess(argv, process.returncode, "\n".join(lines), "")


def _own_group() -> None:
    """In the child, before exec: a process group of its own (killed as a whole), and if faber-db is
    killed (even with -9) the kernel kills Prisma too, so no orphaned `migrate deploy` races the
    recovery that follows (PR_SET_PDEATHSIG: Linux; elsewhere only the group)."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def kill_group(process: subprocess.Popen[str]) -> None:
    import subprocess

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass
