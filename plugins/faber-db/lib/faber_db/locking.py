"""One deploy at a time per (project, environment).

A file lock (flock) under the project's `.fractary/plugins/faber-db/locks/` covers every process on
this machine and every provider (SQLite has no advisory locks). On PostgreSQL faber-db also holds a
session advisory lock on the target database for the whole workflow, which covers other machines;
a migration tool may take its own advisory lock around its deploy as well.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.engines import Database

LOCK_DIR = Path(".fractary/plugins/faber-db/locks")


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text("utf-8") or "{}")
        return f" (pid {info.get('pid')}, {info.get('operation')}, since {info.get('since')})"
    except (OSError, ValueError):
        return ""


@contextmanager
def environment_lock(project_root: Path, environment: str, operation: str, *, wait_seconds: float = 0
                     ) -> Iterator[None]:
    directory = project_root / LOCK_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{environment}.lock"
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole block)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FaberError(
                        "DEPLOY_IN_PROGRESS",
                        f"Another faber-db process is working on {environment}{_holder(path)}",
                        f"Wait for it to finish (`faber-db status {environment}` shows the result), or raise "
                        "safety.lock_wait_seconds to queue behind it.",
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "operation": operation,
                                 "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        handle.flush()
        yield
    finally:
        try:
            handle.seek(0)
            handle.truncate()
        except OSError:
            pass
        handle.close()  # closing releases the flock; a killed process releases it too


def _advisory_key(environment: str) -> int:
    # a key of our own (never a migration tool's own, such as 72707369), stable per environment name
    return int.from_bytes(hashlib.sha256(f"faber-db:{environment}".encode()).digest()[:8], "big", signed=True)


def take_advisory_lock(db: Database, environment: str) -> bool:
    """PostgreSQL: a session advisory lock of faber-db's own on the target database, held until the
    session ends, so a deploy from another machine (another file lock) is refused. Returns whether a
    lock was taken (False where the database has none: SQLite)."""
    if not db.advisory_locks:
        return False
    if not db.try_advisory_lock(_advisory_key(environment)):
        raise FaberError("DEPLOY_IN_PROGRESS",
                         f"Another faber-db process holds {environment}'s database lock (maybe on another machine)",
                         "Wait for it to finish, then run again.")
    return True
