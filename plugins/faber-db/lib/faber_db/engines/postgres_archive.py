"""PostgreSQL backups and restores with the server's own tools: `pg_dump -Fc` and `pg_restore`,
piped through `psql` in one transaction. (Split from postgres.py, with the tools in
client.py: the archive is a concern of its own.)

What a backup covers. The migration tool manages the schema the URL names (`?schema=`, default
`public`), and the schemas its project lists besides (the handler's `database_schemas()`): the backup
holds exactly those that exist (`pg_dump -n` for each), and the manifest records the whole list,
so that a restore also removes a listed schema that a failed migration created. Other schemas of
the database (another application's, a platform's such as Supabase's `auth` when the project does not
list it) are neither saved nor touched, and a restore refuses, before changing anything, when an
object outside the restored schemas depends on one inside (CASCADE would drop it).

Backup: one connection opens a REPEATABLE READ transaction and exports its snapshot; `pg_dump
--snapshot=<id>` dumps exactly that state while the same transaction computes the data snapshot in
parallel (postgres_catalog: rows, content checksums, the schema fingerprint, extensions), so the
checksums cost almost no wall time. Then `pg_restore --list` must read the archive and list one
TABLE DATA entry per table, and the sequences' values are read from the archive itself (sequences
are not transactional: their values are the ones the restore will set). `pg_dump` gets the
password through the child's environment (`PGPASSWORD`), never its argument list.

Extensions. Managed PostgreSQL and most production setups install extensions (pgcrypto, citext,
pg_trgm, uuid-ossp) as a superuser into `public`, before the application's role, which owns the
database and its objects but is no superuser, runs the migrations. A schema dump holds no
extension (`pg_dump -n` leaves them out, as designed) and an extension cannot leave the schema it
lives in: so a restore must never drop or recreate a schema. `pg_restore --clean` does exactly that
(`DROP SCHEMA public` fails: "extension pgcrypto depends on schema public") and drops only what the
archive holds (a table created after the backup would survive), so faber-db does not use it. The
manifest records every installed extension (name, version, schema): a restore creates one that is
missing (which needs the privilege to; otherwise it fails, changing nothing, and says so), drops
one installed since the backup in a restored schema that the role may drop (the failed migration's
`CREATE EXTENSION`), and leaves every other alone.

Restore, in ONE transaction (`psql --single-transaction -v ON_ERROR_STOP=1`, fed by faber-db):
1. a preamble (PL/pgSQL): create the archive's schemas that are missing (with their owner); create
   missing extensions; refuse when objects outside the restored schemas depend on objects inside;
   revoke the restored schemas' default privileges (the archive sets them again at its end, so
   objects it creates get exactly their dumped privileges); drop every object of the restored
   schemas that no extension owns; check nothing is left; drop the extensions and the listed
   schemas created since the backup;
2. the archive as SQL (`pg_restore -L <list> -f -`), without its schema entries (a schema that
   exists keeps its owner, comment and privileges) and with owners kept: the restore runs with the
   role's own privileges, which own (or are a member of the owner of) every object it drops and
   recreates, and a missing role fails the restore instead of changing owners silently;
3. a check (PL/pgSQL) that computes the snapshot again inside the transaction and raises unless
   it equals the manifest's: rows, content checksums, schema fingerprint (functions, triggers,
   policies, privileges included), sequence values and extensions. faber-db writes it only after
   `pg_restore` exited 0; otherwise it writes a statement that fails.
Any error rolls everything back: the database is either fully old or exactly the backup, verified
before it commits. Every failure carries psql's and pg_restore's stderr (redacted) in `details`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from faber_db.engines import postgres_catalog
from faber_db.engines import postgres_tools as client
from faber_db.engines.model import DataSnapshot, Progress, TakenBackup, diff_snapshots, quote_literal, say
from faber_db.engines.postgres import PostgresDatabase, PostgresTarget
from faber_db.errors import FaberError

PG_DUMP_TIMEOUT = 6 * 3600
PG_RESTORE_TIMEOUT = 6 * 3600
PG_TOOL_TIMEOUT = 120
# the preamble's drops wait at most this long for another session's locks, then fail
RESTORE_LOCK_TIMEOUT = "60s"
_SETVAL = re.compile(r"^SELECT pg_catalog\.setval\('((?:[^']|'')*)', (-?\d+), (true|false)\);$", re.M)
_QUALIFIED = re.compile(r'^(?:"((?:[^"]|"")*)"|([^."]+))\.(?:"((?:[^"]|"")*)"|([^."]+))$')


def backup(target: PostgresTarget, tmp: Path, progress: Progress | None, compression: int,
           connection: PostgresDatabase | None, schemas: Sequence[str] = ()) -> TakenBackup:
    """`pg_dump -Fc` of the URL's schema and of those of `schemas` that exist, verified (see above)."""
    if connection is not None:
        db = connection
        owned: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    else:
        try:
            db = PostgresDatabase(target)
        except FaberError as exc:
            raise FaberError("BACKUP_FAILED", f"Cannot connect for the backup: {exc.message}", exc.hint) from None
        owned = db
    declared = [target.schema, *(s for s in schemas if s != target.schema)]
    with owned:
        major = client.server_major(db)
        server_version = db.server_version()
        tools = client.find_pg_tools(major, ("pg_dump", "pg_restore"))
        # One REPEATABLE READ transaction exports its snapshot: pg_dump dumps exactly the state the
        # checksums below are computed on, and both run at the same time.
        with db.reading():
            scope = db.scope(declared)
            sequence_keys = {(str(s), str(n)): str(k) for k, s, n in
                             db.query(postgres_catalog.tables_sql(scope, scope[0], "S"))}
            snapshot_id = str(db.query("SELECT pg_export_snapshot()")[0][0])
            argv = [tools.tool("pg_dump"), "--format=custom", f"--compress={compression}",
                    f"--snapshot={snapshot_id}", *(f"--schema={client.pg_pattern(s)}" for s in scope),
                    f"--file={tmp}", "--no-password"]
            say(progress, f"pg_dump -Fc of {target.database} (schema {', '.join(scope)}) with {tools.version}")
            with client.Child(argv, client.pg_env(target), timeout=PG_DUMP_TIMEOUT) as dump:
                try:
                    live_snap = postgres_catalog.snapshot(db, scope, scope[0], read_sequences=False)
                except FaberError as exc:
                    dump.kill()
                    raise FaberError("BACKUP_FAILED", f"Could not checksum the live data: {exc.message}",
                                     exc.hint) from None
                code, stderr = dump.wait()
    if code != 0:
        raise FaberError("BACKUP_FAILED", f"pg_dump failed (exit {code}): {client.first_error(stderr)}",
                         "pg_dump's stderr is in the result's details; check free space and the role's privileges.",
                         details={"stderr": client.stderr_tail(stderr)})
    say(progress, "verifying the dump (pg_restore --list)")
    listing = client.run([tools.tool("pg_restore"), "--list", str(tmp)], client.pg_env(target), PG_TOOL_TIMEOUT)
    if listing.returncode != 0:
        raise FaberError("BACKUP_FAILED", "pg_restore cannot read the dump just written",
                         "Retry the backup; check the disk.", details={"stderr": client.stderr_tail(listing.stderr)})
    toc = client.read_toc(listing.stdout)
    data_entries = sum(1 for entry in toc if entry.is_("TABLE", "DATA"))
    if data_entries != len(live_snap.tables):
        raise FaberError(
            "BACKUP_FAILED",
            f"The dump holds data for {data_entries} tables, the database has {len(live_snap.tables)}",
            "Retry the backup; if it persists, check for tables pg_dump skips (e.g. by permissions).",
            details={"dump_table_data_entries": data_entries, "live_tables": sorted(live_snap.tables)},
        )
    live_snap.sequences = _archive_sequences(tools, tmp, toc, target, sequence_keys)
    verification = (f"pg_restore --list ok; {data_entries} TABLE DATA entries = {len(live_snap.tables)} live "
                    "tables; checksums taken from the dump's own snapshot; sequence values read from the dump")
    return TakenBackup(live_snap, {"pg_dump": tools.version, "server": server_version}, verification,
                       schemas=declared)


def _archive_sequences(tools: client.PgTools, archive: Path, toc: list[client.TocEntry], target: PostgresTarget,
                       keys: dict[tuple[str, str], str]) -> dict[str, str]:
    """Each sequence's "last_value:is_called" as the archive will set it."""
    entries = [entry.line for entry in toc if entry.is_("SEQUENCE", "SET")]
    if not entries and not keys:
        return {}
    with tempfile.TemporaryDirectory(prefix="faber-toc-") as folder:
        use_list = Path(folder) / "sequences.list"
        use_list.write_text("\n".join(entries) + "\n", "utf-8")
        out = client.run([tools.tool("pg_restore"), f"--use-list={use_list}", "--file=-", str(archive)],
                   client.pg_env(target), PG_TOOL_TIMEOUT)
    if out.returncode != 0:
        raise FaberError("BACKUP_FAILED", "pg_restore cannot read the sequences of the dump just written",
                         "Retry the backup; check the disk.", details={"stderr": client.stderr_tail(out.stderr)})
    states: dict[str, str] = {}
    for literal, value, called in _SETVAL.findall(out.stdout):
        qualified = _split_qualified(literal.replace("''", "'"))
        if qualified not in keys:
            raise FaberError("BACKUP_FAILED", f"The dump sets a sequence the database does not list ({literal})",
                             "Retry the backup.")
        states[keys[qualified]] = f"{value}:{called}"
    if len(states) != len(keys):
        raise FaberError("BACKUP_FAILED", f"The dump sets {len(states)} sequences, the database has {len(keys)}",
                         "Retry the backup; if it persists, check the role's privileges on the sequences.",
                         details={"live_sequences": sorted(keys.values()), "dumped": sorted(states)})
    return states


def _split_qualified(text: str) -> tuple[str, str] | None:
    """`public."User_id_seq"` -> ("public", "User_id_seq"): a qualified name as pg_dump writes one."""
    match = _QUALIFIED.match(text)
    if match is None:
        return None
    schema = match[2] if match[1] is None else match[1].replace('""', '"')
    name = match[4] if match[3] is None else match[3].replace('""', '"')
    return schema, name


def restore(archive: Path, target: PostgresTarget, expected: DataSnapshot, schemas: Sequence[str],
            backup_id: str, progress: Progress | None) -> DataSnapshot:
    """Put the archive back over the database of `target`, all or nothing, verified before it
    commits (see above). `schemas`: the schemas the backup is responsible for, the URL's first.
    Returns the snapshot the restore transaction verified."""
    declared = list(schemas)
    primary = declared[0]
    try:
        db = PostgresDatabase(target)
    except FaberError as exc:
        raise FaberError("RESTORE_FAILED", f"Cannot connect for the restore: {exc.message}", exc.hint) from None
    with db:
        try:
            tools = client.find_pg_tools(client.server_major(db), ("pg_restore", "psql"))
        except FaberError as exc:
            raise FaberError("RESTORE_FAILED", exc.message, f"{exc.hint} Nothing was changed.") from None
        existing = {str(r[0]) for r in db.query(postgres_catalog.scope_sql(declared))}
    env = client.pg_env(target)
    listing = client.run([tools.tool("pg_restore"), "--list", str(archive)], env, PG_TOOL_TIMEOUT, "RESTORE_FAILED")
    if listing.returncode != 0:
        raise FaberError("RESTORE_FAILED",
                         f"pg_restore cannot read backup {backup_id}: {client.first_error(listing.stderr)}",
                         "Nothing was changed; restore from another backup (pg_restore's stderr is in the "
                         "result's details).", details={"stderr": client.stderr_tail(listing.stderr)})
    toc = client.read_toc(listing.stdout)
    owners = {entry[0]: entry[1] for entry in (e.schema_entry() for e in toc) if entry and entry[0] in declared}
    archived = [s for s in declared if s in owners or s == primary]
    keep = [e.line for e in toc if e.schema_entry() is None and e.schema_attribute() not in existing]
    preamble = _preamble(declared, archived, {s: o for s, o in owners.items() if s not in existing},
                         expected.extensions)
    check = postgres_catalog.verification_block(expected, archived, primary)
    say(progress, f"restoring {archive.name} into {target.database} (schema {', '.join(archived)}) "
                  "in one transaction")
    with tempfile.TemporaryDirectory(prefix="faber-restore-") as folder:
        use_list = Path(folder) / "restore.list"
        use_list.write_text("\n".join(keep) + "\n", "utf-8")
        restore_argv = [tools.tool("pg_restore"), f"--use-list={use_list}", "--file=-", str(archive)]
        psql_argv = [tools.tool("psql"), "--no-psqlrc", "--quiet", "--no-password", "--single-transaction",
                     "--set=ON_ERROR_STOP=1", "--file=-"]
        psql_code, restore_code, psql_err, restore_err = _pipe_restore(restore_argv, psql_argv, env, preamble,
                                                                       check)
    stderr = psql_err + restore_err
    if psql_code != 0 or restore_code != 0:
        _raise_restore_failure(backup_id, expected, psql_code, restore_code, stderr)
    reported = re.search(r"faber-db-snapshot (\{.*\})\s*$", psql_err, re.M)
    if reported is None:
        raise FaberError("RESTORE_FAILED", f"The restore of backup {backup_id} ended without its own check",
                         "Take a snapshot and compare it with the backup before deploying (`faber-db restore "
                         "--dry-run`).", details={"stderr": client.stderr_tail(_hide_snapshots(stderr))})
    say(progress, "verified inside the restore transaction: rows, checksums, schema and sequences match")
    return DataSnapshot.from_dict(json.loads(reported.group(1)))


def _raise_restore_failure(backup_id: str, expected: DataSnapshot, psql_code: int, restore_code: int,
                           stderr: str) -> None:
    # `unchanged`: the restore ran as one transaction that was rolled back (no recovery is needed)
    details: dict[str, Any] = {"stderr": client.stderr_tail(_hide_snapshots(stderr)), "psql_exit": psql_code,
                               "pg_restore_exit": restore_code, "unchanged": True}
    mismatch = re.search(r"faber-db-verify (\{.*\})\s*$", stderr, re.M)
    if mismatch is not None:
        actual = DataSnapshot.from_dict(json.loads(mismatch.group(1)))
        details["differences"] = diff_snapshots(expected, actual)
        raise FaberError(
            "RESTORE_FAILED",
            f"The restored database would not have matched backup {backup_id} "
            f"({'; '.join(details['differences'][:3])}); the transaction was rolled back and nothing was changed",
            "The result's details list what differed; restore from another backup, or investigate.",
            details=details)
    error = client.first_error(stderr)
    hint = "Nothing was changed. The stderr of psql and pg_restore is in the result's details."
    if "extension" in error:
        hint += (" The backup needs the extensions it was taken with: a superuser must install a missing one "
                 "(CREATE EXTENSION ... SCHEMA ...) first.")
    elif re.search(r'role "[^"]+" does not exist', error):
        hint += " The backup restores its owners and privileges: create the role it names first."
    raise FaberError("RESTORE_FAILED", f"The restore of backup {backup_id} failed and was rolled back "
                     f"(psql exit {psql_code}, pg_restore exit {restore_code}): {error}", hint, details=details)


def _hide_snapshots(text: str) -> str:
    return re.sub(r"(faber-db-(?:verify|snapshot)) \{.*\}", r"\1 <snapshot>", text)


def _pipe_restore(restore_argv: list[str], psql_argv: list[str], env: dict[str, str], preamble: str,
                  check: str) -> tuple[int, int, str, str]:
    """psql reads, in order: the preamble, pg_restore's SQL, then the check (or, if pg_restore
    failed, a statement that fails: a cut-off script must never commit). Returns (psql exit,
    pg_restore exit, psql stderr, pg_restore stderr)."""
    try:
        producer = subprocess.Popen(restore_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        raise FaberError("RESTORE_FAILED", f"Cannot run pg_restore: {exc.strerror}",
                         "Install the PostgreSQL client tools; nothing was changed.") from None
    try:
        consumer = subprocess.Popen(psql_argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        producer.kill()
        producer.wait()
        raise FaberError("RESTORE_FAILED", f"Cannot run psql: {exc.strerror}",
                         "Install the PostgreSQL client tools; nothing was changed.") from None
    errors = {"psql": _drain(consumer.stderr), "pg_restore": _drain(producer.stderr)}
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        for proc in (consumer, producer):
            with contextlib.suppress(OSError):
                proc.kill()

    watchdog = threading.Timer(PG_RESTORE_TIMEOUT, expire)
    watchdog.start()
    try:
        assert producer.stdout is not None and consumer.stdin is not None
        sink = consumer.stdin
        try:
            sink.write(preamble.encode("utf-8"))
            while chunk := os.read(producer.stdout.fileno(), 1 << 16):
                sink.write(chunk)
            restore_code = producer.wait()
            sink.write((check if restore_code == 0 else _ABORT).encode("utf-8"))
            sink.close()
        except BrokenPipeError:  # psql stopped at an error; it rolls back on its own
            producer.kill()
            restore_code = producer.wait()
        with contextlib.suppress(BrokenPipeError):
            sink.close()
        psql_code = consumer.wait()
    finally:
        watchdog.cancel()
        for proc in (consumer, producer):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if expired.is_set():
        raise FaberError("RESTORE_FAILED", f"The restore did not finish within {PG_RESTORE_TIMEOUT} s",
                         "The transaction was rolled back; nothing was changed.", details={"unchanged": True})
    return psql_code, restore_code, errors["psql"].text(), errors["pg_restore"].text()


_ABORT = "DO $faber$ BEGIN RAISE EXCEPTION 'faber-db: pg_restore failed; rolling back'; END $faber$;\n"


class _Drained:
    def __init__(self, stream: IO[bytes] | None) -> None:
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes] | None) -> None:
        if stream is not None:
            self._chunks.append(stream.read())

    def text(self) -> str:
        self._thread.join(timeout=30)
        return b"".join(self._chunks).decode("utf-8", "replace")


def _drain(stream: IO[bytes] | None) -> _Drained:
    """Collect a child's stderr in the background (a full pipe would stall it)."""
    return _Drained(stream)


def _preamble(declared: list[str], archived: list[str], create: dict[str, str],
              extensions: dict[str, str] | None) -> str:
    """The restore's first step (see the module docstring), as PL/pgSQL."""
    def literal(value: object) -> str:
        return quote_literal(json.dumps(value, sort_keys=True)) + "::jsonb"

    members = {f"member_{catalog}": _MEMBER.format(f"pg_{catalog}", f"{alias}.oid") for catalog, alias in (
        ("class", "c"), ("proc", "p"), ("type", "t"), ("opfamily", "f"), ("operator", "p"))}
    named_drops = "\n".join(
        f"    SELECT format('DROP {kind} IF EXISTS %I.%I CASCADE', n.nspname, {alias}.{name}), {order}\n"
        f"      FROM pg_{catalog} {alias} JOIN pg_namespace n ON n.oid = {alias}.{schema}\n"
        f"     WHERE {alias}.{schema} = ANY(faber_scope) AND {_MEMBER.format(f'pg_{catalog}', f'{alias}.oid')}\n"
        "    UNION ALL" for kind, catalog, alias, name, schema, order in _NAMED_DROPS)
    return _PREAMBLE.format(
        lock_timeout=quote_literal(RESTORE_LOCK_TIMEOUT), declared=postgres_catalog.schemas_literal(declared),
        archived=postgres_catalog.schemas_literal(archived), create=literal(create),
        extensions="NULL::jsonb" if extensions is None else literal(extensions),
        dependent_schema=_DEPENDENT_SCHEMA, named_drops=named_drops, **members)


# objects of the restored schemas dropped by their qualified name, one shape for each:
# (DROP's object kind, pg_<catalog>, alias, name column, schema column, drop order)
_NAMED_DROPS = (("COLLATION", "collation", "l", "collname", "collnamespace", 4),
                ("CONVERSION", "conversion", "v", "conname", "connamespace", 4),
                ("TEXT SEARCH CONFIGURATION", "ts_config", "g", "cfgname", "cfgnamespace", 4),
                ("TEXT SEARCH DICTIONARY", "ts_dict", "y", "dictname", "dictnamespace", 5))
_MEMBER = ("NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{0}'::regclass AND e.objid = {1} "
           "AND e.deptype = 'e')")

# the schema an object lives in, for the objects a restore's drops can reach (others: NULL)
_DEPENDENT_SCHEMA = """(CASE d.classid
       WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objid)
       WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objid)
       WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objid)
       WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = d.objid)
       WHEN 'pg_operator'::regclass THEN (SELECT oprnamespace FROM pg_operator WHERE oid = d.objid)
       WHEN 'pg_collation'::regclass THEN (SELECT collnamespace FROM pg_collation WHERE oid = d.objid)
       WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = d.objid)
       WHEN 'pg_opclass'::regclass THEN (SELECT opcnamespace FROM pg_opclass WHERE oid = d.objid)
       WHEN 'pg_opfamily'::regclass THEN (SELECT opfnamespace FROM pg_opfamily WHERE oid = d.objid)
       WHEN 'pg_ts_config'::regclass THEN (SELECT cfgnamespace FROM pg_ts_config WHERE oid = d.objid)
       WHEN 'pg_ts_dict'::regclass THEN (SELECT dictnamespace FROM pg_ts_dict WHERE oid = d.objid)
       WHEN 'pg_conversion'::regclass THEN (SELECT connamespace FROM pg_conversion WHERE oid = d.objid)
       WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef x
                                          JOIN pg_class c ON c.oid = x.adrelid WHERE x.oid = d.objid)
       WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite x
                                          JOIN pg_class c ON c.oid = x.ev_class WHERE x.oid = d.objid)
       WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger x
                                          JOIN pg_class c ON c.oid = x.tgrelid WHERE x.oid = d.objid)
       WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy x
                                         JOIN pg_class c ON c.oid = x.polrelid WHERE x.oid = d.objid)
       WHEN 'pg_amop'::regclass THEN (SELECT f.opfnamespace FROM pg_amop x
                                       JOIN pg_opfamily f ON f.oid = x.amopfamily WHERE x.oid = d.objid)
       WHEN 'pg_amproc'::regclass THEN (SELECT f.opfnamespace FROM pg_amproc x
                                         JOIN pg_opfamily f ON f.oid = x.amprocfamily WHERE x.oid = d.objid)
     END)"""

_PREAMBLE = """SET standard_conforming_strings = on;
SET lock_timeout = {lock_timeout};
SET client_min_messages = warning;
DO $faber_prepare$
DECLARE
  faber_declared text[] := {declared};
  faber_archived text[] := {archived};
  faber_create jsonb := {create};
  faber_extensions jsonb := {extensions};
  faber_scope oid[];
  faber_item record;
  faber_text text;
  faber_statements text[];
BEGIN
  -- the archive's schemas that are missing, with their owner (existing ones are left as they are)
  FOR faber_item IN SELECT key, value FROM jsonb_each_text(faber_create) LOOP
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', faber_item.key, faber_item.value);
  END LOOP;
  -- the extensions the backup was taken with (creating one needs the privilege to)
  IF faber_extensions IS NOT NULL THEN
    FOR faber_item IN SELECT key AS name, split_part(value, '@', 1) AS version,
                             substr(value, strpos(value, '@') + 1) AS nsp FROM jsonb_each_text(faber_extensions) LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = faber_item.name) THEN
        EXECUTE format('CREATE EXTENSION %I WITH SCHEMA %I VERSION %L', faber_item.name, faber_item.nsp,
                       faber_item.version);
      END IF;
    END LOOP;
  END IF;
  faber_scope := ARRAY(SELECT oid FROM pg_namespace WHERE nspname = ANY(faber_declared));
  -- refuse (nothing changed) when objects outside the restored schemas depend on objects inside:
  -- the drops below CASCADE and would take them along
  SELECT string_agg(DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid), ', ') INTO faber_text
    FROM pg_depend d
    CROSS JOIN LATERAL pg_identify_object(d.refclassid, d.refobjid, 0) AS r
   WHERE d.refobjid >= 16384 AND d.objid >= 16384 AND d.deptype IN ('n', 'a')
     AND d.refclassid <> 'pg_namespace'::regclass AND d.classid <> 'pg_extension'::regclass
     AND r.schema = ANY(faber_declared)
     AND coalesce({dependent_schema} <> ALL(faber_scope), true)
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.deptype = 'e' AND ((e.classid = d.classid
                     AND e.objid = d.objid) OR (e.classid = d.refclassid AND e.objid = d.refobjid)));
  IF faber_text IS NOT NULL THEN
    RAISE EXCEPTION 'faber-db: objects outside the restored schemas depend on them: %', faber_text
      USING HINT = 'Drop or move them first, or restore by hand; nothing was changed.';
  END IF;
  -- default privileges of the restored schemas: revoked here, granted again at the archive's end,
  -- so that the objects it creates get exactly the privileges they were dumped with
  FOR faber_item IN SELECT pg_get_userbyid(d.defaclrole) AS owner, n.nspname, a.privilege_type,
                           CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
                             WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' END AS kind,
                           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                             AS grantee
                      FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
                     CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a
                     WHERE d.defaclnamespace = ANY(faber_scope) AND d.defaclobjtype IN ('r', 'S', 'f', 'T') LOOP
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I REVOKE %s ON %s FROM %s', faber_item.owner,
                   faber_item.nspname, faber_item.privilege_type, faber_item.kind, faber_item.grantee);
  END LOOP;
  -- every object of the restored schemas that no extension owns (statements first: a CASCADE may
  -- remove later ones, which IF EXISTS then skips; tables before sequences, which an identity
  -- column holds on to)
  SELECT coalesce(array_agg(q ORDER BY o), '{{}}') INTO faber_statements FROM (
    SELECT format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW'
             WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
             ELSE 'TABLE' END, n.nspname, c.relname) AS q, CASE c.relkind WHEN 'S' THEN 2 ELSE 1 END AS o
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY(faber_scope) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND {member_class}
    UNION ALL
    SELECT format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
             p.oid::regprocedure::text), 2
      FROM pg_proc p WHERE p.pronamespace = ANY(faber_scope) AND {member_proc}
    UNION ALL
    SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', n.nspname, t.typname), 3
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typnamespace = ANY(faber_scope) AND t.typtype IN ('e', 'd', 'r', 'c')
       AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') AND {member_type}
    UNION ALL
{named_drops}
    SELECT format('DROP OPERATOR FAMILY IF EXISTS %I.%I USING %I CASCADE', n.nspname, f.opfname, m.amname), 6
      FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am m ON m.oid = f.opfmethod
     WHERE f.opfnamespace = ANY(faber_scope) AND {member_opfamily}
    UNION ALL
    SELECT format('DROP OPERATOR IF EXISTS %s CASCADE', p.oid::regoperator::text), 7
      FROM pg_operator p WHERE p.oprnamespace = ANY(faber_scope) AND {member_operator}
  ) AS drops;
  FOREACH faber_text IN ARRAY faber_statements LOOP
    EXECUTE faber_text;
  END LOOP;
  -- nothing of the schemas may be left but what extensions own
  SELECT string_agg(pg_describe_object(d.classid, d.objid, 0), ', ') INTO faber_text FROM pg_depend d
   WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = ANY(faber_scope) AND d.deptype = 'n'
     AND d.classid NOT IN ('pg_extension'::regclass, 'pg_default_acl'::regclass)
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid
                     AND e.deptype = 'e');
  IF faber_text IS NOT NULL THEN
    RAISE EXCEPTION 'faber-db cannot clear these objects before the restore: %', faber_text
      USING HINT = 'Drop them by hand (nothing was changed), then restore again.';
  END IF;
  -- extensions installed since the backup in a restored schema, that this role may drop
  IF faber_extensions IS NOT NULL THEN
    FOR faber_item IN SELECT x.extname FROM pg_extension x WHERE x.extnamespace = ANY(faber_scope)
                         AND NOT faber_extensions ? x.extname AND pg_has_role(x.extowner, 'USAGE') LOOP
      EXECUTE format('DROP EXTENSION %I', faber_item.extname);
    END LOOP;
  END IF;
  -- schemas the backup is responsible for but does not hold: created since
  FOR faber_item IN SELECT nspname FROM pg_namespace WHERE nspname = ANY(faber_declared)
                       AND NOT nspname = ANY(faber_archived) LOOP
    EXECUTE format('DROP SCHEMA %I', faber_item.nspname);
  END LOOP;
END
$faber_prepare$;
"""
