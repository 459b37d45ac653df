"""Single-use approval proofs: minted by the approval gate after the person's yes, checked by the CLI.

Interim implementation of the interface the gate engineer delivers (replaced at merge).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import pwd
import secrets
import time
from pathlib import Path

APPROVAL_VARIABLE = "FABER_DB_APPROVAL"
PROOF_TTL_SECONDS = 900


class ProofRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def approval_dir() -> Path:
    return Path(pwd.getpwuid(os.geteuid()).pw_dir) / ".local" / "state" / "faber-db" / "approval"


def _key(create: bool) -> bytes | None:
    path = approval_dir() / "key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".key.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)
    tmp.unlink()
    return path.read_bytes()


def machine_key() -> bytes:
    """The machine's secret (created on first use): signs proofs and the audit anchors."""
    key = _key(create=True)
    assert key is not None
    return key


def _fingerprint(project_root: Path) -> str:
    return hashlib.sha256(str(project_root.resolve()).encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(*, plan_id: str, environment: str, project_root: Path, now: float | None = None) -> str:
    key = _key(create=True)
    assert key is not None
    payload = json.dumps({"p": plan_id, "e": environment, "r": _fingerprint(project_root),
                          "x": int((now or time.time()) + PROOF_TTL_SECONDS), "n": secrets.token_hex(16)},
                         separators=(",", ":")).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"fdb1.{_b64(payload)}.{_b64(mac)}"


def verify_and_spend(token: str, *, plan_id: str, environment: str, project_root: Path,
                     now: float | None = None) -> None:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "fdb1":
        raise ProofRejected("malformed proof")
    key = _key(create=False)
    if key is None:
        raise ProofRejected("no approval key on this machine")
    try:
        payload, mac = _unb64(parts[1]), _unb64(parts[2])
        data = json.loads(payload)
    except ValueError:
        raise ProofRejected("malformed proof") from None
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        raise ProofRejected("bad signature")
    if data.get("x", 0) < (now or time.time()):
        raise ProofRejected("expired")
    if data.get("p") != plan_id or data.get("e") != environment or data.get("r") != _fingerprint(project_root):
        raise ProofRejected("minted for another plan, environment or project")
    spent = approval_dir() / "spent"
    with open(spent, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if any(line.split(" ")[0] == data["n"] for line in handle.read().splitlines()):
            raise ProofRejected("already used")
        handle.write(f"{data['n']} {data['x']}\n")
