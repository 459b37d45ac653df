"""Generating: `prisma migrate diff` between the migration history and the schema (the migration)
and back (its down.sql), the script's step comments, and the migration folder Prisma would write."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.handlers.base import SchemaDiff
from faber_db.handlers.prisma._lazy import LazyPattern
from faber_db.handlers.prisma.history import DOWN_FILE, LOCK_FILE, MIGRATION_FILE

if TYPE_CHECKING:
    from faber_db.handlers.prisma.handler import PrismaHandler

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


def diff_argv(*, major: int, schema_path: Path, migrations_dir: Path, reverse: bool, has_history: bool,
              shadow_url: str | None) -> list[str]:
    """`migrate diff` from the history to the schema (or back, `reverse`), in the given major's flags."""
    schema = str(schema_path)
    history = ["--from-migrations" if not reverse else "--to-migrations", str(migrations_dir)]
    if not has_history:
        history = ["--from-empty"] if not reverse else ["--to-empty"]
    schema_flag = "--to-schema" if major >= 7 else "--to-schema-datamodel"
    if reverse:
        schema_flag = schema_flag.replace("--to-", "--from-")
    argv = ["migrate", "diff", *(history if not reverse else []), schema_flag, schema,
            *(history if reverse else []), "--script", "--exit-code"]
    if shadow_url and has_history and major < 7:
        argv += ["--shadow-database-url", shadow_url]
    return argv


def diff_schema(handler: PrismaHandler, *, database_url: str | None, shadow_url: str | None = None,
                down_shadow_url: str | None = None,
                while_reverse_runs: Callable[[], None] | None = None) -> SchemaDiff:
    """The up `migrate diff` and its reverse (down.sql), side by side.

    Neither touches the environment's database: the history is replayed into a shadow database
    (Prisma's own for driver adapters, else `shadow_url` for the up diff and `down_shadow_url` for
    the down diff, which the caller creates and drops). Prisma wipes a shadow database when a diff
    starts, so two diffs never share one at the same time: with a single shadow they run in turn.

    The reverse diff runs at the lowest CPU priority. When the up script only creates things, its
    inverse is written without it (inverse.py) and it is stopped, so the common change costs
    about one Prisma run -- except where stopping it would strand a shadow database Prisma made
    on a PostgreSQL server (driver adapters). `while_reverse_runs` is called once the up diff has
    changes and the reverse one is still needed: work to overlap with it.
    """
    import subprocess

    from faber_db.handlers.prisma.inverse import Inverse, invert_additive

    has_history = bool(handler.local_migrations())
    shadows = (shadow_url, down_shadow_url or shadow_url)
    major = handler.major_version()
    runs = [diff_argv(major=major, schema_path=handler.schema_path, migrations_dir=handler.migrations_dir,
                      reverse=r, has_history=has_history, shadow_url=s)
            for r, s in zip((False, True), shadows, strict=True)]
    major7 = major >= 7
    envs = [{"SHADOW_DATABASE_URL": s} if s and major7 else {} for s in shadows]
    provider = handler.config.database.provider
    may_stop_reverse = provider == "sqlite" or not handler.manages_own_shadow()
    derived: Inverse | None = None

    def reverse_not_needed(up: subprocess.CompletedProcess[str]) -> bool:
        nonlocal derived
        if up.returncode != 2:  # no change, or an error
            return may_stop_reverse
        derived = invert_additive(up.stdout, provider) if may_stop_reverse else None
        if derived is not None:
            return True
        if while_reverse_runs is not None:
            while_reverse_runs()
        return False

    if has_history and shadow_url and shadows[0] == shadows[1]:
        up = handler.run_parallel(runs[:1], database_url=database_url, extra_env=envs[0])[0]
        results = [up] if reverse_not_needed(up) else [
            up, handler.run_parallel(runs[1:], database_url=database_url, extra_env=envs[1])[0]]
    else:
        results = handler.run_parallel(runs, database_url=database_url, run_envs=envs, background=True,
                                    enough=reverse_not_needed)
    up = results[0]
    # without the reverse diff's run: the derived script, or nothing (no change, or up failed)
    down = results[1] if len(results) == 2 else subprocess.CompletedProcess(
        runs[1], up.returncode, derived.sql if derived else "", "")
    for result, what in ((up, "prisma migrate diff"), (down, "prisma migrate diff (down)")):
        if result.returncode not in (0, 2):
            raise handler.schema_error(result) or handler.error_from(result, what)
    return SchemaDiff(changed=up.returncode == 2, up_sql=up.stdout, down_sql=down.stdout,
                      down_drops=derived.drops if derived else None)


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
