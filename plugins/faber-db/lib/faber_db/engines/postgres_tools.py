"""The PostgreSQL client tools faber-db runs (pg_dump, pg_restore, psql): finding the right version,
their environment (the password never on a command line), running them, reading their output."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from faber_db.engines.model import Queryable, quote_ident
from faber_db.engines.postgres import PostgresTarget
from faber_db.errors import FaberError
from faber_db.redact import redact, register_secret


@dataclass(frozen=True)
class PgTools:
    bin_dir: Path
    major: int
    version: str

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def _tool_version(path: str) -> tuple[int, str] | None:
    try:
        proc = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", proc.stdout)
    if proc.returncode != 0 or not match:
        return None
    return int(match.group(1)), match.group(0)


def find_pg_tools(server_major: int, needed: tuple[str, ...]) -> PgTools:
    """The client tools whose major version is the smallest one >= the server's (closest match:
    a newer pg_dump reads an older server, and its output suits the server it came from)."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += [Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))]
    candidates += [Path(p).parent for p in sorted(glob.glob("/usr/local/opt/postgresql@*/bin/pg_dump"))]
    found: list[PgTools] = []
    seen: set[Path] = set()
    for bin_dir in candidates:
        if bin_dir in seen or not all((bin_dir / n).is_file() for n in needed):
            continue
        seen.add(bin_dir)
        version = _tool_version(str(bin_dir / "pg_dump"))
        if version:
            found.append(PgTools(bin_dir, version[0], version[1]))
    usable = sorted((t for t in found if t.major >= server_major), key=lambda t: t.major)
    if usable:
        return usable[0]
    have = ", ".join(sorted({t.version for t in found})) or "none"
    raise FaberError(
        "BACKUP_FAILED",
        f"No PostgreSQL client tools ({', '.join(needed)}) of version {server_major} or newer (found: {have})",
        f"Install the PostgreSQL {server_major} client tools (e.g. apt-get install postgresql-client-"
        f"{server_major}) so that {needed[0]} is on PATH.",
    )


def pg_env(target: PostgresTarget) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for keep in ("PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSSLCRL", "PGPASSFILE"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    env.update({
        "PGHOST": target.host,
        "PGPORT": str(target.port),
        "PGUSER": target.user,
        "PGDATABASE": target.database,
        "PGCONNECT_TIMEOUT": str(max(1, int(target.connect_timeout))),
        "PGAPPNAME": "faber-db",
    })
    if target.password is not None:
        env["PGPASSWORD"] = target.password
        register_secret(target.password)
    if target.sslmode:
        env["PGSSLMODE"] = target.sslmode
    return env


def stderr_tail(text: str, limit: int = 2000) -> str:
    return redact(text.strip())[-limit:]


def server_major(db: Queryable) -> int:
    return int(db.query("SHOW server_version_num")[0][0]) // 10000


def first_error(stderr: str) -> str:
    """The tool's or the server's first error line, without psql's "psql:<stdin>:12:" prefix."""
    for line in stderr.splitlines():
        match = re.search(r"(?:ERROR|FATAL|error):\s+(.*)", line)
        if match:
            return redact(match.group(1).strip())[:500]
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return redact(lines[-1])[:500] if lines else "no message"


def pg_pattern(schema: str) -> str:
    """A `pg_dump -n` pattern that matches exactly `schema` (quoted: no wildcards, case kept)."""
    return quote_ident(schema)


@dataclass(frozen=True)
class TocEntry:
    """One line of `pg_restore --list`: "3359; 0 16388 TABLE DATA public User faber"."""

    line: str

    @property
    def words(self) -> list[str]:
        return self.line.split(None, 6)

    def is_(self, *desc: str) -> bool:
        words = self.words
        return len(words) >= 3 + len(desc) and tuple(words[3:3 + len(desc)]) == desc

    def schema_entry(self) -> tuple[str, str] | None:
        """(schema, owner) of a SCHEMA entry, else None. A schema's own entries look like
        "8; 2615 2200 SCHEMA - public pg_database_owner"."""
        if not self.is_("SCHEMA", "-"):
            return None
        rest = self.line.split(" SCHEMA - ", 1)[1]
        name, _, owner = rest.rpartition(" ")
        return name, owner

    def schema_attribute(self) -> str | None:
        """The schema a COMMENT or ACL entry of a schema itself is about, else None."""
        for desc in ("COMMENT", "ACL"):
            if self.is_(desc, "-", "SCHEMA"):
                return self.line.split(f" {desc} - SCHEMA ", 1)[1].rpartition(" ")[0]
        return None


def read_toc(listing: str) -> list[TocEntry]:
    return [TocEntry(line) for line in listing.splitlines() if line.strip() and not line.startswith(";")]


def run(argv: list[str], env: dict[str, str], timeout: float, code: str = "BACKUP_FAILED"
         ) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise FaberError(code, f"{Path(argv[0]).name} did not finish within {int(timeout)} s",
                         "Retry; check the server's load.") from None
    except OSError as exc:
        raise FaberError(code, f"Cannot run {Path(argv[0]).name}: {exc.strerror}",
                         "Install the PostgreSQL client tools.") from None


class Child:
    """A subprocess run in the background (stdin closed, stderr collected, stdout discarded)."""

    def __init__(self, argv: list[str], env: dict[str, str], *, timeout: float) -> None:
        self.argv = argv
        self.env = env
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: list[bytes] = []
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Child:
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, env=self.env)
        except OSError as exc:
            raise FaberError("BACKUP_FAILED", f"Cannot run {Path(self.argv[0]).name}: {exc.strerror}",
                             "Install the PostgreSQL client tools.") from None
        proc = self.proc

        def read() -> None:
            assert proc.stderr is not None
            self._stderr.append(proc.stderr.read())

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        self._started = time.monotonic()
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def wait(self) -> tuple[int, str]:
        assert self.proc is not None
        remaining = max(1.0, self.timeout - (time.monotonic() - self._started))
        try:
            code = self.proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            raise FaberError("BACKUP_FAILED", f"{Path(self.argv[0]).name} did not finish within "
                             f"{int(self.timeout)} s", "Retry; check the server's load.") from None
        if self._reader is not None:
            self._reader.join(timeout=10)
        return code, b"".join(self._stderr).decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        self.kill()
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
