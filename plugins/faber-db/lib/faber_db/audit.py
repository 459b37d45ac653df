"""The append-only audit trail: `.fractary/plugins/faber-db/audit.jsonl`.

One JSON line per operation that changed (or tried to change) a database. Each line carries its own
hash (of its content) and the previous line's hash, so `faber-db audit --verify` names an edited line
(its own hash no longer matches) and a deleted one (the next line's `prev` no longer matches).
Never a URL or password: every line passes through `redact`, and only names are recorded.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from faber_db import __version__
from faber_db.redact import redact

AUDIT_FILE = Path(".fractary/plugins/faber-db/audit.jsonl")
GENESIS = "0" * 64


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def append(project_root: Path, entry: dict[str, Any]) -> dict[str, Any]:
    path = project_root / AUDIT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the read of the last line and the append are one step
        previous = _last_line(fd)
        try:
            prev_hash = str(json.loads(previous)["hash"]) if previous else GENESIS
        except (ValueError, KeyError, TypeError):
            prev_hash = hashlib.sha256(previous.encode("utf-8")).hexdigest()
        record = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "user": _user(),
            "host": socket.gethostname(),
            "faber_db": __version__,
            **entry,
            "prev": prev_hash,
        }
        # redact before hashing, so the stored line is exactly what was hashed
        record = dict(json.loads(redact(json.dumps(record, default=str, ensure_ascii=False))))
        record["hash"] = record_hash(record)
        line = json.dumps(record, sort_keys=True, ensure_ascii=False)
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
        return record
    finally:
        os.close(fd)


def _last_line(fd: int) -> str:
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return ""
    chunk = 4096
    data = b""
    position = size
    while position > 0:
        step = min(chunk, position)
        position -= step
        data = os.pread(fd, step, position) + data
        if data.rstrip(b"\n").count(b"\n") >= 1:
            break
    return data.rstrip(b"\n").split(b"\n")[-1].decode("utf-8", "replace")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def read(project_root: Path) -> list[str]:
    path = project_root / AUDIT_FILE
    try:
        return path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return []


def verify(lines: list[str]) -> list[dict[str, Any]]:
    """Problems in the trail, each naming its 1-based line number."""
    problems: list[dict[str, Any]] = []
    expected_prev = GENESIS
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            problems.append({"line": number, "problem": "not a valid audit record (edited)"})
            expected_prev = hashlib.sha256(line.encode("utf-8")).hexdigest()
            continue
        if record.get("hash") != record_hash(record):
            problems.append({"line": number, "problem": "edited: its content no longer matches its hash"})
        elif record.get("prev") != expected_prev:
            problems.append({"line": number, "problem": "a line before it was deleted or reordered"})
        expected_prev = str(record.get("hash"))
    return problems
