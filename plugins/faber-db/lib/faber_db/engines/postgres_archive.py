"""PostgreSQL backups and restores with the server's own tools: `pg_dump -Fc` and `pg_restore`,
piped into `psql --single-transaction`. (Split from postgres.py: the archive and the client tools
are a concern of their own, and together they would pass 600 lines.)

Backup: one connection opens a REPEATABLE READ transaction and exports its snapshot; `pg_dump
--snapshot=<id>` dumps exactly that state while the same transaction computes the data snapshot in
parallel (server side, one aggregate query per table), so the checksum costs almost no wall time.
Then `pg_restore --list` must read the archive and list one TABLE DATA entry per live table.
`pg_dump` gets the password through the child's environment (`PGPASSWORD`), never its argument list.

Scope: the schema of the URL's `schema` parameter (default `public`), as Prisma manages it:
`pg_dump -n <schema>`. Other schemas of the database are neither saved nor touched. Extensions are
not part of a schema dump; they stay installed across a restore.

Restore: plain `pg_restore --clean` drops only the objects that are in the archive, so a table
created after the backup (say by the half-applied migration being undone, with a foreign key to an
old table) would make the drop fail or survive the restore. faber-db therefore runs, in ONE
transaction (`psql --single-transaction -v ON_ERROR_STOP=1`): a preamble that refuses when objects
outside the schema depend on it, then drops every object in the schema (not the schema itself, not
extension members), then the archive as SQL (`pg_restore --clean --if-exists --no-owner -f -`). Any
error rolls the whole transaction back: the database is either fully old or fully restored.
"""

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
from typing import Any

from faber_db.engines.model import DataSnapshot, Progress, Queryable, TakenBackup, quote_literal, say
from faber_db.engines.postgres import PostgresDatabase, PostgresTarget, pin_session, snapshot_of
from faber_db.errors import FaberError
from faber_db.redact import redact, register_secret

PG_DUMP_TIMEOUT = 6 * 3600
PG_RESTORE_TIMEOUT = 6 * 3600
PG_TOOL_TIMEOUT = 120


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


def _stderr_tail(text: str, limit: int = 2000) -> str:
    return redact(text.strip())[-limit:]


def server_major(db: Queryable) -> int:
    return int(db.query("SHOW server_version_num")[0][0]) // 10000


def backup(target: PostgresTarget, tmp: Path, progress: Progress | None, compression: int,
           connection: PostgresDatabase | None) -> TakenBackup:
    if connection is not None:
        db = connection
        owned: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    else:
        try:
            db = PostgresDatabase(target)
        except FaberError as exc:
            raise FaberError("BACKUP_FAILED", f"Cannot connect for the backup: {exc.message}", exc.hint) from None
        owned = db
    with owned:
        major = server_major(db)
        server_version = db.server_version()
        tools = find_pg_tools(major, ("pg_dump", "pg_restore"))
        # One REPEATABLE READ transaction exports its snapshot: pg_dump dumps exactly the state the
        # checksums below are computed on, and both run at the same time.
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        pin_session(db)
        snapshot_id = str(db.query("SELECT pg_export_snapshot()")[0][0])
        argv = [tools.tool("pg_dump"), "--format=custom", f"--compress={compression}", f"--snapshot={snapshot_id}",
                f"--schema={_pg_pattern(target.schema)}", f"--file={tmp}", "--no-password"]
        say(progress, f"pg_dump -Fc of {target.database} (schema {target.schema}) with {tools.version}")
        with _Child(argv, pg_env(target), timeout=PG_DUMP_TIMEOUT) as dump:
            try:
                live_snap = snapshot_of(db, target.schema)
            except FaberError as exc:
                dump.kill()
                raise FaberError("BACKUP_FAILED", f"Could not checksum the live data: {exc.message}",
                                 exc.hint) from None
            code, stderr = dump.wait()
        with contextlib.suppress(FaberError):
            db.execute("COMMIT")
    if code != 0:
        raise FaberError("BACKUP_FAILED", f"pg_dump failed (exit {code})",
                         "Read pg_dump's message in details; check free space and the role's privileges.",
                         details={"stderr": _stderr_tail(stderr)})
    say(progress, "verifying the dump (pg_restore --list)")
    listing = _run([tools.tool("pg_restore"), "--list", str(tmp)], pg_env(target), PG_TOOL_TIMEOUT)
    if listing.returncode != 0:
        raise FaberError("BACKUP_FAILED", "pg_restore cannot read the dump just written",
                         "Retry the backup; check the disk.", details={"stderr": _stderr_tail(listing.stderr)})
    data_entries = _count_table_data(listing.stdout)
    if data_entries != len(live_snap.tables):
        raise FaberError(
            "BACKUP_FAILED",
            f"The dump holds data for {data_entries} tables, the database has {len(live_snap.tables)}",
            "Retry the backup; if it persists, check for tables pg_dump skips (e.g. by permissions).",
            details={"dump_table_data_entries": data_entries, "live_tables": sorted(live_snap.tables)},
        )
    verification = (f"pg_restore --list ok; {data_entries} TABLE DATA entries = {len(live_snap.tables)} live "
                    "tables; checksums taken from the dump's own snapshot")
    return TakenBackup(live_snap, {"pg_dump": tools.version, "server": server_version}, verification,
                       schemas=[target.schema])


def _pg_pattern(schema: str) -> str:
    # pg_dump -n takes a pattern: quote it so the name is taken literally.
    return '"' + schema.replace('"', '""') + '"'


def _count_table_data(listing: str) -> int:
    count = 0
    for line in listing.splitlines():
        if line.startswith(";") or not line.strip():
            continue
        # "3359; 0 16388 TABLE DATA public User faber"
        parts = line.split(None, 6)
        if len(parts) >= 6 and parts[3] == "TABLE" and parts[4] == "DATA":
            count += 1
    return count


def _run(argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise FaberError("BACKUP_FAILED", f"{Path(argv[0]).name} did not finish within {int(timeout)} s",
                         "Retry; check the server's load.") from None
    except OSError as exc:
        raise FaberError("BACKUP_FAILED", f"Cannot run {Path(argv[0]).name}: {exc.strerror}",
                         "Install the PostgreSQL client tools.") from None


class _Child:
    """A subprocess run in the background (stdin closed, stderr collected, stdout discarded)."""

    def __init__(self, argv: list[str], env: dict[str, str], *, timeout: float) -> None:
        self.argv = argv
        self.env = env
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: list[bytes] = []
        self._reader: threading.Thread | None = None

    def __enter__(self) -> _Child:
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


_PREAMBLE = """
SET standard_conforming_strings = on;
SELECT set_config('faber.restore_schema', {schema}, true);
DO $faber$
DECLARE
  s oid := (SELECT oid FROM pg_namespace WHERE nspname = current_setting('faber.restore_schema'));
  dependents text;
  stmt text;
  stmts text[] := '{{}}';
BEGIN
  IF s IS NULL THEN
    RETURN;
  END IF;
  -- refuse (nothing changed) when objects outside the schema depend on it: CASCADE would drop them
  SELECT string_agg(DISTINCT d, ', ') INTO dependents FROM (
    SELECT v.oid::regclass::text AS d FROM pg_depend dep
      JOIN pg_rewrite r ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = r.oid
      JOIN pg_class v ON v.oid = r.ev_class
      JOIN pg_class t ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = t.oid
     WHERE t.relnamespace = s AND v.relnamespace <> s
    UNION
    SELECT k.conrelid::regclass::text FROM pg_constraint k
      JOIN pg_class t ON t.oid = k.confrelid JOIN pg_class c ON c.oid = k.conrelid
     WHERE k.contype = 'f' AND t.relnamespace = s AND c.relnamespace <> s) x;
  IF dependents IS NOT NULL THEN
    RAISE EXCEPTION 'faber-db: objects outside the schema depend on it: %', dependents;
  END IF;
  -- every object of the schema that no extension owns
  SELECT coalesce(array_agg(q), '{{}}') INTO stmts FROM (
    SELECT format('DROP %s IF EXISTS %s CASCADE',
             CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
               WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
             format('%I.%I', n.nspname, c.relname)) AS q, 1 AS o
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relnamespace = s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                        AND e.objid = c.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE'
             ELSE 'ROUTINE' END, p.oid::regprocedure::text), 2
      FROM pg_proc p WHERE p.pronamespace = s
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                        AND e.objid = p.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('DROP TYPE IF EXISTS %s CASCADE', format('%I.%I', n.nspname, t.typname)), 3
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typnamespace = s AND t.typtype IN ('e', 'd', 'r', 'c')
       AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass
                        AND e.objid = t.oid AND e.deptype = 'e')
    ORDER BY o) y;
  FOREACH stmt IN ARRAY stmts LOOP
    EXECUTE stmt;
  END LOOP;
END
$faber$;
"""


def restore(path: Path, target: PostgresTarget, progress: Progress | None) -> DataSnapshot:
    try:
        db = PostgresDatabase(target)
    except FaberError as exc:
        raise FaberError("RESTORE_FAILED", f"Cannot connect for the restore: {exc.message}", exc.hint) from None
    with db:
        tools = find_pg_tools(server_major(db), ("pg_restore", "psql"))
    env = pg_env(target)
    preamble = _PREAMBLE.format(schema=quote_literal(target.schema))
    restore_argv = [tools.tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--file=-", str(path)]
    psql_argv = [tools.tool("psql"), "--no-psqlrc", "--quiet", "--no-password", "--single-transaction",
                 "--set=ON_ERROR_STOP=1", f"--command={preamble}", "--file=-"]
    say(progress, f"restoring {path.name} into {target.database} (schema {target.schema}) in one transaction")
    try:
        producer = subprocess.Popen(restore_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        raise FaberError("RESTORE_FAILED", f"Cannot run pg_restore: {exc.strerror}",
                         "Install the PostgreSQL client tools; nothing was changed.") from None
    try:
        consumer = subprocess.Popen(psql_argv, stdin=producer.stdout, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        producer.kill()
        producer.wait()
        raise FaberError("RESTORE_FAILED", f"Cannot run psql: {exc.strerror}",
                         "Install the PostgreSQL client tools; nothing was changed.") from None
    assert producer.stdout is not None
    producer.stdout.close()  # psql owns the pipe now; pg_restore gets SIGPIPE if psql stops
    try:
        _, psql_err = consumer.communicate(timeout=PG_RESTORE_TIMEOUT)
        _, restore_err = producer.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        for proc in (consumer, producer):
            proc.kill()
            proc.wait()
        raise FaberError("RESTORE_FAILED", f"The restore did not finish within {PG_RESTORE_TIMEOUT} s",
                         "The transaction was rolled back; nothing was changed.") from None
    if consumer.returncode != 0 or producer.returncode != 0:
        raise FaberError(
            "RESTORE_FAILED",
            f"The restore failed (psql exit {consumer.returncode}, pg_restore exit {producer.returncode}); "
            "the transaction was rolled back",
            "Nothing was changed. Read the messages in details.",
            details={"stderr": _stderr_tail(psql_err.decode("utf-8", "replace")
                                            + restore_err.decode("utf-8", "replace"))},
        )
    say(progress, "verifying the restored data")
    with PostgresDatabase(target) as db:
        return db.snapshot()
