"""The append-only audit trail: `.fractary/plugins/faber-db/audit.jsonl`, and the anchors that check it.

One JSON line per operation that changed (or tried to change) a database. Each line carries a
sequence number, its own hash (of its content) and the previous line's hash: an edited line no
longer matches its hash, a deleted or reordered one breaks the next line's `prev`.

A chain inside one file cannot show that its end was cut off, that the file was emptied or deleted,
or that a forged line was appended with a recomputed hash. So the head of the chain (sequence
number and hash) is anchored outside the file:
- on this machine, in the user's own state folder (`proof.approval_dir()/../audit-anchors/`, not
  under the project and not movable by environment variables), updated after every append and
  signed with the machine's approval key; lines beyond it were not written by faber-db here;
- in every plan record a dry run writes, and in every backup manifest (the head at that moment).
`verify` checks the file against every anchor it finds. What is not detected: a change made by
someone who also rewrites every anchor with the machine's key (that is, who can do anything this
user can); lines another user account on the same machine appended show as unanchored.
Never a URL or password: every line passes through `redact`, and only names are recorded.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from faber_db import __version__
from faber_db.redact import redact_data

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
        prev_hash, prev_seq = _chain_end(previous, fd)
        record = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "user": _user(),
            "host": socket.gethostname(),
            "faber_db": __version__,
            **entry,
            "seq": prev_seq + 1,
            "prev": prev_hash,
        }
        # redact the values before hashing, so the stored line is exactly what was hashed
        record = dict(redact_data(record))
        record["hash"] = record_hash(record)
        line = json.dumps(record, sort_keys=True, ensure_ascii=False)
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
        _write_machine_anchor(project_root, {"seq": record["seq"], "hash": record["hash"]})
        return record
    finally:
        os.close(fd)


def _chain_end(previous: str, fd: int) -> tuple[str, int]:
    """The last line's hash and sequence number (lines from before sequence numbers are counted)."""
    if not previous:
        return GENESIS, 0
    try:
        record = json.loads(previous)
        prev_hash = str(record["hash"])
    except (ValueError, KeyError, TypeError):
        record, prev_hash = {}, hashlib.sha256(previous.encode("utf-8")).hexdigest()
    seq = record.get("seq") if isinstance(record, dict) else None
    if isinstance(seq, int):
        return prev_hash, seq
    size = os.lseek(fd, 0, os.SEEK_END)
    return prev_hash, os.pread(fd, size, 0).rstrip(b"\n").count(b"\n") + 1


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


def head(project_root: Path) -> dict[str, Any]:
    """The chain's head now (sequence number and hash of the last line), for anchoring elsewhere."""
    path = project_root / AUDIT_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {"seq": 0, "hash": GENESIS}
    try:
        prev_hash, seq = _chain_end(_last_line(fd), fd)
        return {"seq": seq, "hash": prev_hash}
    finally:
        os.close(fd)


# --- anchors -------------------------------------------------------------------------------------


def _anchor_path(project_root: Path) -> Path:
    from faber_db.proof import approval_dir

    fingerprint = hashlib.sha256(str(project_root.resolve()).encode("utf-8")).hexdigest()[:24]
    return approval_dir().parent / "audit-anchors" / f"{fingerprint}.json"


def _anchor_mac(anchor: dict[str, Any], project_root: Path) -> str:
    from faber_db.proof import machine_key

    body = json.dumps({"seq": anchor["seq"], "hash": anchor["hash"], "root": str(project_root.resolve())},
                      sort_keys=True).encode()
    return hmac.new(machine_key(), body, hashlib.sha256).hexdigest()


def _write_machine_anchor(project_root: Path, anchor: dict[str, Any]) -> None:
    from faber_db.files import write_json_atomic

    try:
        path = _anchor_path(project_root)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_json_atomic(path, {**anchor, "mac": _anchor_mac(anchor, project_root)})
    except OSError:
        pass  # an unwritable state folder costs the anchor, never the audit line (verify says so)


def machine_anchor(project_root: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(this machine's anchor, a problem with it): (None, None) when there is none."""
    try:
        data = json.loads(_anchor_path(project_root).read_text("utf-8"))
        anchor = {"seq": int(data["seq"]), "hash": str(data["hash"])}
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, KeyError, TypeError):
        return None, "this machine's audit anchor is unreadable (it was edited)"
    if not hmac.compare_digest(str(data.get("mac", "")), _anchor_mac(anchor, project_root)):
        return None, "this machine's audit anchor does not carry faber-db's signature (it was edited)"
    return anchor, None


def verify(project_root: Path, anchors: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Problems in the trail, each naming its 1-based line number (0: the file as a whole).
    `anchors`: (where it was found, {"seq", "hash"}) from plan records and backup manifests."""
    lines = read(project_root)
    problems = _verify_chain(lines)
    hashes: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        try:
            hashes[number] = str(json.loads(line).get("hash"))
        except (ValueError, AttributeError):
            hashes[number] = ""
    machine, problem = machine_anchor(project_root)
    if problem:
        problems.append({"line": 0, "problem": problem})
    found = list(anchors) + ([("this machine's anchor", machine)] if machine else [])
    position = {value: number for number, value in hashes.items()}
    for where, anchor in found:
        seq, expected = int(anchor.get("seq", 0)), str(anchor.get("hash", ""))
        if seq == 0 or position.get(expected) == seq:
            continue
        if expected in position:
            continue  # the anchored line is there, at another position: the chain names the deletion
        if seq > len(lines):
            what = "deleted or emptied" if not lines else f"cut off after line {len(lines)}"
            problems.append({"line": len(lines) + 1 if lines else 0,
                             "problem": f"the trail was {what}: {where} records {seq} lines"})
        else:
            problems.append({"line": seq, "problem": f"line {seq} is not the line {where} recorded (rewritten)"})
    if machine and len(lines) > int(machine["seq"]) and position.get(str(machine["hash"])) == int(machine["seq"]):
        problems.append({"line": int(machine["seq"]) + 1,
                         "problem": f"lines {int(machine['seq']) + 1}-{len(lines)} were not written by faber-db on "
                         "this machine (appended by hand or by another account)"})
    unique: dict[tuple[int, str], dict[str, Any]] = {(p["line"], p["problem"]): p for p in problems}
    return sorted(unique.values(), key=lambda p: int(p["line"]))


def _verify_chain(lines: list[str]) -> list[dict[str, Any]]:
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
        elif isinstance(record.get("seq"), int) and record["seq"] != number:
            problems.append({"line": number, "problem": f"numbered {record['seq']}: lines before it were deleted"})
        expected_prev = str(record.get("hash"))
    return problems
