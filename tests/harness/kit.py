"""The npm kit (Prisma 6.15 + driver adapters) the tests run real Prisma from."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parent.parent / "kit"
"""tests/kit: package.json, package-lock.json and the prisma.config.<provider>.ts files."""

PRISMA_VERSION = "6.15.0"

_COMPLETE_MARKER = ".faber-kit-complete"


def cache_dir() -> Path:
    """Root of the test cache: $FABER_TEST_CACHE, else ~/.cache/faber-db-tests."""
    env = os.environ.get("FABER_TEST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "faber-db-tests"


def kit_lock_hash() -> str:
    """First 12 hex digits of the sha256 of tests/kit/package-lock.json."""
    return hashlib.sha256((KIT_DIR / "package-lock.json").read_bytes()).hexdigest()[:12]


def config_file(provider: str) -> Path:
    """tests/kit/prisma.config.<sqlite|postgres>.ts for a datasource provider."""
    name = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres"}[provider]
    return KIT_DIR / f"prisma.config.{name}.ts"


def ensure_kit() -> Path:
    """Install the kit once (``npm ci --ignore-scripts``) and return its node_modules path.

    The install lives in ``<cache>/kit-<lockhash>/node_modules``. A file lock makes parallel
    calls (pytest-xdist workers, concurrent sessions) safe; the install is built in a scratch
    directory and renamed into place, so a crashed install never looks complete.
    """
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"kit-{kit_lock_hash()}"
    node_modules = target / "node_modules"
    if (target / _COMPLETE_MARKER).is_file():
        return node_modules
    with open(root / f"kit-{kit_lock_hash()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (target / _COMPLETE_MARKER).is_file():
                return node_modules
            if target.exists():
                shutil.rmtree(target)
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("npm is not on PATH: the Prisma test kit needs Node.js 20+ and npm")
            scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.tmp-", dir=root))
            os.chmod(scratch, 0o755)
            try:
                for name in ("package.json", "package-lock.json"):
                    shutil.copy2(KIT_DIR / name, scratch / name)
                proc = subprocess.run(
                    [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                    cwd=scratch,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                if proc.returncode != 0:
                    raise RuntimeError(
                        f"npm ci failed (exit {proc.returncode}) in {scratch}\n"
                        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
                    )
                if not (scratch / "node_modules" / "prisma" / "build" / "index.js").is_file():
                    raise RuntimeError(f"npm ci did not install prisma into {scratch}/node_modules")
                (scratch / _COMPLETE_MARKER).write_text(kit_lock_hash() + "\n")
                os.rename(scratch, target)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return node_modules
