"""Single-use approval proofs: minted by the approval gate after the person accepted Claude Code's
prompt, checked and spent by the CLI before a protected change under an AI agent.

A proof is `fdb1.<payload>.<signature>` (both base64url): the payload binds the plan id, the
canonical environment name, a fingerprint of the resolved project root, an expiry and a random
nonce; the signature is HMAC-SHA256 with a 32-byte key kept on this machine. A verified proof's
nonce is recorded as spent, so a second use is refused.

The key and the spent list live under the real home directory of the effective user
(`~/.local/state/faber-db/approval`, mode 0700), found from the password database and never from
HOME, XDG_* or CLAUDE_PLUGIN_DATA, which an agent can set for one command. Standard library only:
the hook imports this with the system Python.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import os
import pwd
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

APPROVAL_VARIABLE = "FABER_DB_APPROVAL"
PROOF_TTL_SECONDS = 900
TOKEN_PREFIX = "fdb1"
KEY_BYTES = 32
_KEY_FILE = "key"
_SPENT_FILE = "spent.json"
_LOCK_FILE = "spent.lock"
_MAX_TOKEN_CHARS = 2048


class ProofRejected(Exception):
    """The proof does not allow this change; `reason` says why, in words for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def approval_dir() -> Path:
    """Where the key and the spent list live: the effective user's real home, not $HOME."""
    home = pwd.getpwuid(os.geteuid()).pw_dir
    return Path(home) / ".local" / "state" / "faber-db" / "approval"


def project_fingerprint(project_root: Path) -> str:
    """A short, stable stand-in for the resolved project root (no path inside the token)."""
    resolved = os.fsencode(str(Path(os.path.abspath(project_root)).resolve()))
    return hashlib.sha256(b"faber-db project\0" + resolved).hexdigest()[:32]


def mint(*, plan_id: str, environment: str, project_root: Path, now: float | None = None) -> str:
    """A proof for one apply of `plan_id` to `environment` (its canonical name) in this project."""
    key = _ensure_key()
    issued = time.time() if now is None else now
    payload = {
        "p": plan_id,
        "e": environment,
        "r": project_fingerprint(project_root),
        "x": int(issued) + PROOF_TTL_SECONDS,
        "n": secrets.token_urlsafe(16),
    }
    body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{TOKEN_PREFIX}.{body}.{_b64encode(_sign(key, body))}"


def verify_and_spend(token: str, *, plan_id: str, environment: str, project_root: Path,
                     now: float | None = None) -> None:
    """Accept the proof once for exactly this plan, environment and project, or raise ProofRejected."""
    at = time.time() if now is None else now
    body, signature = _split(token)
    key = _read_key(approval_dir() / _KEY_FILE)
    if key is None:
        raise ProofRejected("no approval key on this machine: the proof was not minted here")
    if not hmac.compare_digest(signature, _sign(key, body)):
        raise ProofRejected("bad signature: the proof was not minted by this machine's approval gate")
    payload = _payload(body)
    if at >= payload["x"]:
        raise ProofRejected(f"expired: proofs are valid for {PROOF_TTL_SECONDS // 60} minutes")
    if payload["p"] != plan_id:
        raise ProofRejected(f"minted for another plan ({payload['p']}, not {plan_id})")
    if payload["e"] != environment:
        raise ProofRejected(f"minted for another environment ({payload['e']}, not {environment})")
    if payload["r"] != project_fingerprint(project_root):
        raise ProofRejected("minted for another project folder")
    _spend(payload["n"], payload["x"], at)


# --- token format ------------------------------------------------------------------------------


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: str) -> bytes:
    return hmac.new(key, f"{TOKEN_PREFIX}.{body}".encode("ascii"), hashlib.sha256).digest()


def _split(token: Any) -> tuple[str, bytes]:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise ProofRejected("malformed proof")
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise ProofRejected("malformed proof (expected fdb1.<payload>.<signature>)")
    try:
        _b64decode(parts[1])
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise ProofRejected("malformed proof (not base64url)") from None
    return parts[1], signature


def _payload(body: str) -> dict[str, Any]:
    try:
        data = json.loads(_b64decode(body))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ProofRejected("malformed proof payload") from None
    types = {"p": str, "e": str, "r": str, "x": int, "n": str}
    if not isinstance(data, dict) or set(data) != set(types) or not all(
            type(data[k]) is t for k, t in types.items()):
        raise ProofRejected("malformed proof payload")
    return data


# --- key and spent list ------------------------------------------------------------------------


def _private_dir() -> Path:
    directory = approval_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ProofRejected(f"{directory} is not a folder of this user's own")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700)
    return directory


def machine_key() -> bytes:
    """This machine's secret (created on first use); it also signs the audit trail's anchor."""
    return _ensure_key()


def _ensure_key() -> bytes:
    directory = _private_dir()
    path = directory / _KEY_FILE
    key = _read_key(path)
    if key is not None:
        return key
    # Write the key to a private temporary file, then link it into place: link fails when another
    # process won the race, and then that process's key is the one everybody uses.
    tmp = directory / f".key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(directory)
    key = _read_key(path)
    if key is None:
        raise ProofRejected(f"cannot create the approval key in {directory}")
    return key


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise ProofRejected(f"cannot read the approval key ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        key = handle.read(KEY_BYTES + 1)
    if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077 or len(key) != KEY_BYTES:
        raise ProofRejected(f"the approval key {path} is not a private {KEY_BYTES}-byte file of this user")
    return key


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _spend(nonce: str, expires: int, now: float) -> None:
    directory = _private_dir()
    path = directory / _SPENT_FILE
    with _locked(directory):
        spent = _read_spent(path)
        if nonce in spent:
            raise ProofRejected("already used: each proof applies once")
        spent = {n: x for n, x in spent.items() if x > now}  # expired proofs fail on expiry anyway
        spent[nonce] = expires
        tmp = directory / f".spent.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(spent, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(directory)


def _read_spent(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # A damaged spent list could let a proof be used twice: refuse rather than guess.
        raise ProofRejected(f"the spent-proof list {path} cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise ProofRejected(f"the spent-proof list {path} is damaged")
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int)}


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
