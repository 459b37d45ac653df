"""Generating: `prisma migrate diff` between the migration history and the schema (the migration)
and back (its down.sql), the script's step comments, and the migration folder Prisma would write."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from faber_db.engines import engine
from faber_db.errors import FaberError
from faber_db.handlers.base import SchemaDiff
from faber_db.handlers.prisma._lazy import LazyPattern
from faber_db.handlers.prisma.history import DOWN_FILE, LOCK_FILE, MIGRATION_FILE, has_migrations
from faber_db.handlers.prisma.messages import error_from

if TYPE_CHECKING:
    from faber_db.engines import Database
    from faber_db.handlers.prisma.handler import PrismaHandler
    from faber_db.results import Finding

EMPTY_MIGRATION = "-- This is an empty migration."


_STEP_COMMENT = LazyPattern(r"^-- (?P<kind>[A-Z][A-Za-z]+)\s*$")
_STEP_TARGET = LazyPattern(
    r'(?:TABLE|INDEX|TYPE|ON|SCHEMA|EXTENSION)\s+(?:IF (?:NOT )?EXISTS\s+)?(?:"[^"]+"\.)?"(?P<name>[^"]+)"')


def summarize_script(sql: str) -> list[dict[str, str]]:
    """Prisma heads each step of a script with a `-- CreateTable`-style comment; list them."""
    changes: list[dict[str, str]] = []
    lines = sql.splitlines()
    for index, line in enumerate(lines):
        match = _STEP_COMMENT.match(line)
        if not match:
            continue
        statement = next((ln for ln in lines[index + 1:] if ln.strip()), "")
        target = _STEP_TARGET.search(statement)
        changes.append({"kind": match["kind"], "object": target["name"] if target else "",
                        "statement": statement.strip()[:200]})
    return changes


Source = Literal["empty", "migrations", "database"]


def diff_argv(*, major: int, schema_path: Path, migrations_dir: Path, source: Source, reverse: bool) -> list[str]:
    """`migrate diff` from the history to the schema (or back, `reverse`), in the given major's flags.
    The history is `source`: nothing yet ("empty"), the migration folder for Prisma to replay
    ("migrations"), or the database the datasource URL names, which holds the replayed history
    ("database": Prisma 7's config datasource, Prisma 6's schema datasource; no URL on the command line)."""
    schema = str(schema_path)
    if source == "empty":
        history = ["--from-empty" if not reverse else "--to-empty"]
    elif source == "migrations":
        history = ["--from-migrations" if not reverse else "--to-migrations", str(migrations_dir)]
    elif major >= 7:
        history = ["--from-config-datasource" if not reverse else "--to-config-datasource"]
    else:
        history = ["--from-schema-datasource" if not reverse else "--to-schema-datasource", schema]
    schema_flag = "--to-schema" if major >= 7 else "--to-schema-datamodel"
    if reverse:
        schema_flag = schema_flag.replace("--to-", "--from-")
    return ["migrate", "diff", *(history if not reverse else []), schema_flag, schema,
            *(history if reverse else []), "--script", "--exit-code"]


def _warning_line(finding: Finding) -> str:
    """The line `prisma migrate dev` writes for this change (its schema engine's wording)."""
    if finding.kind == "drop_table" and finding.table:
        return (f"You are about to drop the `{finding.table}` table. If the table is not empty, "
                "all the data it contains will be lost.")
    if finding.kind == "drop_column" and finding.table and finding.column:
        return (f"You are about to drop the column `{finding.column}` on the `{finding.table}` table. "
                "All the data in the column will be lost.")
    return finding.message


def warnings_header(findings: list[Finding]) -> str:
    """The data-loss comment Prisma's `migrate dev` puts on top of a risky migration."""
    lines = [f"  - {_warning_line(f)}" for f in findings
             if f.kind != "lock_risk" and f.severity in ("medium", "high", "critical")]
    if not lines:
        return ""
    return "/*\n  Warnings:\n\n" + "\n".join(lines) + "\n\n*/\n"


UP_STEP = "prisma migrate diff (migration.sql: history -> schema)"
DOWN_STEP = "prisma migrate diff (down.sql: schema -> history)"


def diff_schema(handler: PrismaHandler, *, database_url: str | None, from_database: bool,
                while_up_runs: Callable[[], None] | None = None,
                while_down_is_made: Callable[[str], None] | None = None,
                history: Callable[[], AbstractContextManager[Database]] | None = None,
                with_down: bool = True) -> SchemaDiff:
    """The up `migrate diff`, then its down.sql (not `with_down`: none); neither touches an environment's
    database.

    `from_database`: `database_url` names a scratch database the caller has replayed the whole history
    into, and the diffs read it (no shadow database anywhere). Otherwise (Prisma 6 with a driver
    adapter) Prisma replays the history itself, into a shadow database its adapter makes on the server
    of `database_url`.

    The down script is Prisma's reverse diff, a second Prisma run, only when faber-db cannot write it
    itself: when the up script only creates things, its inverse is written from it (inverse.py); when
    `history` opens a database holding the history before the change and the script's drops and
    alterations can be undone from its catalog (inverse.invert_from_catalog, checked by a rehearsal on
    a copy), from that. The reverse diff is not started beside the up one: on 2 cores a second Node
    process slows the first by more than the rare fallback costs. A shadow database a stopped or
    crashed Prisma leaves on a PostgreSQL server is dropped afterwards (or named in the result's
    warnings). `while_up_runs` is called once the up diff has started (work to overlap with it);
    `while_down_is_made` is called with the up script once it has changes whose inverse
    is not plainly its mirror: work to overlap with the catalog derivation or the reverse diff.
    """
    import subprocess

    from faber_db.handlers.prisma.inverse import Inverse, invert_additive, invert_from_catalog

    has_history = has_migrations(handler.migrations_dir)
    source: Source = ("database" if from_database else "migrations") if has_history else "empty"
    major = handler.major_version()
    runs = [diff_argv(major=major, schema_path=handler.schema_path, migrations_dir=handler.migrations_dir,
                      source=source, reverse=reverse) for reverse in (False, True)]
    provider = handler.config.database.provider
    # Prisma 7 qualifies the names of its reverse diff with the datasource's schema
    qualify = _url_schema(database_url) if major >= 7 and engine(provider).named_schemas else None
    warnings: list[str] = []

    def derive_down(up: subprocess.CompletedProcess[str]) -> Inverse | None:
        inverse = invert_additive(up.stdout, provider, qualify)
        if inverse is None and while_down_is_made is not None:
            while_down_is_made(up.stdout)
        if inverse is None and history is not None:
            try:
                with history() as before:
                    inverse = invert_from_catalog(up.stdout, before, qualify)
            except FaberError:  # no history database (its replay failed): Prisma's reverse diff decides
                inverse = None
        return inverse

    prisma_shadows = source == "migrations" and engine(provider).server_holds_databases and database_url is not None
    with stranded_shadows_dropped(database_url if prisma_shadows else None, warnings):
        up = handler.run(runs[0], database_url=database_url, while_running=while_up_runs)
        derived = derive_down(up) if up.returncode == 2 and with_down else None  # 2: changes; else none, or an error
        if up.returncode == 2 and with_down and derived is None:
            down = handler.run(runs[1], database_url=database_url)
        else:  # the derived script, or nothing (no change, or up failed)
            down = subprocess.CompletedProcess(runs[1], up.returncode, derived.sql if derived else "", "")
    for result, what in ((up, UP_STEP), (down, DOWN_STEP)):
        if result.returncode not in (0, 2):
            error = handler.schema_error(result) or error_from(result, what)
            if warnings:  # a stranded shadow database that could not be dropped
                error.details["warnings"] = warnings
            raise error
    return SchemaDiff(changed=up.returncode == 2, up_sql=up.stdout, down_sql=down.stdout,
                      down_drops=derived.drops if derived else None, warnings=warnings)


def _url_schema(url: str | None) -> str:
    """The schema of a PostgreSQL URL (`?schema=`), as Prisma reads it; `public` without one."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url or "").query).get("schema", ["public"])[-1]


SHADOW_PREFIX = "prisma_migrate_shadow_db_"
_SHADOW_NAME = LazyPattern(r"prisma_migrate_shadow_db_[0-9a-fA-F-]{1,64}")


@contextmanager
def stranded_shadows_dropped(server_url: str | None, warnings: list[str]) -> Iterator[None]:
    """Around Prisma runs that may make shadow databases (`prisma_migrate_shadow_db_<uuid>`) on the
    PostgreSQL server of `server_url`: afterwards, drop each one that appeared meanwhile and is no longer
    in use -- a Prisma killed (stopped, timed out, crashed) never dropped its own -- and name in
    `warnings` any that cannot be dropped. None: no server, nothing to watch."""
    if server_url is None:
        yield
        return
    before = _shadow_databases(server_url)
    try:
        yield
    finally:
        if before is not None:
            for name in sorted((_shadow_databases(server_url) or set()) - before):
                if not _drop_unused(server_url, name):
                    warnings.append(f"Prisma left its shadow database {name} on the server and faber-db could not "
                                    f"drop it (still in use?): drop it with DROP DATABASE \"{name}\" once unused.")


def _shadow_databases(server_url: str) -> set[str] | None:
    """The shadow databases Prisma has on the server now; None when the server cannot be asked."""
    from faber_db.engines import PostgresDatabase, parse_postgres_url

    try:
        with PostgresDatabase(parse_postgres_url(server_url)) as db:
            rows = db.query("SELECT datname FROM pg_database WHERE starts_with(datname, ?)", (SHADOW_PREFIX,))
    except FaberError:
        return None
    return {str(r[0]) for r in rows if _SHADOW_NAME.fullmatch(str(r[0]))}


def _drop_unused(server_url: str, name: str) -> bool:
    """DROP DATABASE without FORCE (one still in use belongs to a Prisma that is running), retried while
    the server ends the sessions of a Prisma that was just killed."""
    import time

    from faber_db.engines import PostgresDatabase, parse_postgres_url

    deadline = time.monotonic() + 2.0
    try:
        with PostgresDatabase(parse_postgres_url(server_url)) as db:
            while True:
                try:
                    db.execute(f'DROP DATABASE IF EXISTS "{name}"')  # name matched _SHADOW_NAME: no quoting needed
                    return True
                except FaberError:
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(0.05)
    except FaberError:
        return False


def write_migration(directory: Path, name: str, up_sql: str, down_sql: str | None, provider: str) -> Path:
    """Write `<migrations>/<name>/migration.sql` (+ down.sql) atomically; the lock file if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    staging = directory / f".faber-tmp-{name}"
    if staging.exists():
        import shutil

        shutil.rmtree(staging)
    staging.mkdir()
    (staging / MIGRATION_FILE).write_text(up_sql, "utf-8", newline="")
    if down_sql is not None:
        (staging / DOWN_FILE).write_text(down_sql, "utf-8", newline="")
    os.rename(staging, final)  # a folder Prisma sees is always complete
    lock = directory / LOCK_FILE
    if not lock.exists():
        lock.write_text(
            "# Please do not edit this file manually\n"
            "# It should be added in your version-control system (e.g., Git)\n"
            f'provider = "{provider}"\n', "utf-8")
    return final
