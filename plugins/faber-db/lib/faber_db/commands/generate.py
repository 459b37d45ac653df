"""`faber-db generate-migration "<description>"`: a migration from the schema's changes, written
exactly as the migration tool's own generate command would, plus a `down.sql` and a risk report.

Never runs the tool's interactive development command (it refuses without a terminal) and never
touches the environment's database: the history is replayed into a scratch database instead. A tool
without a schema to diff gets an empty, timestamped migration to fill.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.handlers.base import LocalMigration, MigrationHandler, SchemaDiff
from faber_db.output import progress_step
from faber_db.results import DOCSTRINGS_DESCRIBE, Finding, Result
from faber_db.runtime import Context

if TYPE_CHECKING:
    from faber_db.config import LoadedConfig
    from faber_db.drift import SchemaChange
    from faber_db.engines import Database
    from faber_db.safety import HistoryAnalysis

HELP = "Generate a migration (and its down.sql) from the schema's changes"
MAX_SLUG = 60


@dataclass
class MigrationFile:
    name: str
    path: str | None  # relative to the project; None in a preview
    sql: str
    down_sql: str
    down_data_loss: list[str] = field(default_factory=list)


@dataclass
class GenerateDetails:
    __pydantic_config__ = DOCSTRINGS_DESCRIBE
    changes: bool
    migration: MigrationFile | None
    findings: list[Finding]
    change_list: list[dict[str, str]]
    preview: bool
    # the migration tool's installed version
    tool_version: str | None = None
    prisma_version: str | None = None
    """Deprecated alias of tool_version (same content), kept for one release; read tool_version."""

    def __post_init__(self) -> None:
        self.prisma_version = self.tool_version


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("description", help="what the change does, e.g. \"add user profiles\"")
    parser.add_argument("--name", help="migration name instead of the description (slugged to [a-z0-9_])")
    parser.add_argument("--preview", action="store_true", help="show the SQL (up and down); write nothing")
    parser.add_argument("--force", action="store_true", help="write an empty migration even when nothing changed")
    parser.add_argument("--env", default="dev", help="environment whose server hosts the scratch database the "
                        "history is replayed into (PostgreSQL only; default dev; its database is never touched)")


def slugify(text: str) -> str:
    """Lowercase ASCII letters, digits and single underscores, at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug[:MAX_SLUG].rstrip("_")


def migration_name(slug: str, existing: list[str], now: datetime | None = None) -> str:
    """`<UTC yyyymmddHHMMSS>_<slug>`, later than every existing migration so it applies last."""
    stamp = int((now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S"))
    for name in existing:
        prefix = name.split("_", 1)[0]
        if prefix.isdigit() and len(prefix) == 14 and int(prefix) >= stamp:
            stamp = _next_second(int(prefix))
    return f"{stamp}_{slug}"


def _next_second(stamp: int) -> int:
    moment = datetime.strptime(str(stamp), "%Y%m%d%H%M%S")
    from datetime import timedelta

    return int((moment + timedelta(seconds=1)).strftime("%Y%m%d%H%M%S"))


def run(ctx: Context, args: argparse.Namespace) -> Result:
    slug = slugify(args.name if args.name is not None else args.description)
    if not slug:
        raise FaberError("INVALID_NAME", "The migration name is empty once reduced to [a-z0-9_]",
                         "Describe the change in words, e.g. \"add user profiles\".")
    return generate_migration(ctx, slug=slug, preview=args.preview, force=args.force, env_name=args.env)


def generate_migration(ctx: Context, *, slug: str, preview: bool, force: bool, env_name: str) -> Result:
    """The operation: diff, analyse, write (unless `preview`), one result."""
    loaded = ctx.load()
    from faber_db.handlers import get_handler

    handler = get_handler(loaded)
    if not handler.diffs_schema():
        return _empty_migration(loaded.project_root, handler, slug=slug, preview=preview)
    _require_schema(loaded, handler)
    provider = loaded.config.database.provider
    analysis = _Analysis(provider, handler.local_migrations)
    with progress_step(f"comparing the migration history with the schema ({handler.diff_description})"):
        diff = _diff(ctx, handler, provider, env_name, analysis.start, while_up_runs=analysis.prepare,
                     drops_nothing=lambda: analysis.keeps_every_column(handler.declared_tables()))

    if not diff.changed and not force:
        return Result(status="warning" if diff.warnings else "success", operation="generate-migration",
                      environment=None, message="No schema changes: nothing to generate",
                      details=GenerateDetails(changes=False, migration=None, findings=[], change_list=[],
                                              preview=preview, tool_version=handler.version()),
                      warnings=diff.warnings)
    findings, down_losses = _analyze(diff, provider, analysis)
    header = handler.warnings_header(findings) if diff.changed else ""
    up_sql = (header + diff.up_sql) if diff.changed else handler.empty_migration_sql
    for finding in findings:  # lines of the written file, as the dry run will report them
        finding.line += header.count("\n")
    down_sql = diff.down_sql if diff.changed else handler.empty_migration_sql
    name = migration_name(slug, [m.name for m in analysis.migrations])
    for finding in findings:
        finding.migration = name
    down_loss = _down_data_loss(findings, down_losses)
    warnings = [f"{f.kind} at line {f.line}: {f.message}" for f in findings if f.severity in ("high", "critical")]
    warnings += diff.warnings
    path: str | None = None
    if not preview:
        folder = handler.write_migration(name, up_sql, down_sql)
        path = str(folder.relative_to(loaded.project_root))
    details = GenerateDetails(
        changes=diff.changed,
        migration=MigrationFile(name=name, path=path, sql=up_sql, down_sql=down_sql, down_data_loss=down_loss),
        findings=findings,
        change_list=handler.summarize(diff.up_sql),
        preview=preview,
        tool_version=handler.version(),
    )
    verb = "Previewed" if preview else "Generated"
    what = f"{len(details.change_list)} change(s)" if diff.changed else "an empty migration"
    return Result(
        status="warning" if warnings else "success",
        operation="generate-migration",
        environment=None,
        message=f"{verb} {name}: {what}" + (", nothing written" if preview else ""),
        details=details,
        warnings=warnings,
        suggested_fixes=[] if preview else ["Review the SQL, then `faber-db migrate dev`."],
    )


def _require_schema(loaded: LoadedConfig, handler: MigrationHandler) -> None:
    if not handler.schema_path.exists():
        where = handler.schema_path.relative_to(loaded.project_root) if handler.schema_path.is_relative_to(
            loaded.project_root) else handler.schema_path
        raise FaberError("SCHEMA_NOT_FOUND", f"No {handler.display_name} schema at {where}",
                         f"Fix `schema` in the config's [{handler.name}] section or run `faber-db init --force`.")


def _empty_migration(root: Path, handler: MigrationHandler, *, slug: str, preview: bool) -> Result:
    """A tool without a schema to diff: an empty, timestamped migration for the person to fill."""
    name = migration_name(slug, [m.name for m in handler.local_migrations()])
    path: str | None = None
    if not preview:
        path = str(handler.write_migration(name, handler.empty_migration_sql, "").relative_to(root))
    details = GenerateDetails(changes=False, migration=MigrationFile(name=name, path=path, sql="", down_sql=""),
                              findings=[], change_list=[], preview=preview, tool_version=handler.version())
    return Result(status="success", operation="generate-migration", environment=None,
                  message=f"{'Previewed' if preview else 'Generated'} {name}: an empty migration to fill"
                  + (", nothing written" if preview else ""), details=details,
                  suggested_fixes=[] if preview else [f"Write the change under `-- migrate:up` in {path} and how "
                                                       "to undo it under `-- migrate:down`, then `faber-db migrate dev "
                                                       "--dry-run`."])


def _diff(ctx: Context, handler: MigrationHandler, provider: str, env_name: str,
          while_down_is_made: Callable[[str], None], while_up_runs: Callable[[], None] | None = None,
          drops_nothing: Callable[[], bool] = lambda: False, with_down: bool = True) -> SchemaDiff:
    """The migration and its down script, computed against throwaway databases: the environment's own
    is never touched.

    Where the tool can diff a database, the whole history is replayed once, with the database's own
    client, into a scratch database, and both diffs read that: the tool replays nothing, and no shadow
    database is made. Otherwise the tool replays the history itself (into shadow databases of its own
    beside the environment's); the catalog a down script of a drop is written from then comes from a
    replay of our own, made while the tool diffs (a replay of 160 PostgreSQL migrations takes ~1 s of
    the server's time: after the diff it would follow it). That replay slows the tool's own, so it is
    not started when `drops_nothing()` (asked after `while_up_runs`) says the change drops nothing;
    should the catalog still be needed (an index dropped, a type changed), it is replayed then.
    `with_down`: False when only the up script is wanted (a drift check): no down script, no replay of
    our own."""
    from faber_db.engines.scratch import tool_workspace_url

    handler.check_datasource()

    if not handler.diffs_from_database():
        server_url = ctx.target(env_name).url
        with tool_workspace_url(provider, server_url) as workspace, \
                _ReplayAlongside(provider, server_url, handler.local_migrations) as alongside:

            def up_runs() -> None:
                if while_up_runs is not None:
                    while_up_runs()
                if with_down and not drops_nothing():
                    alongside.start()

            return handler.diff_schema(database_url=workspace, from_database=False, while_up_runs=up_runs,
                                       while_down_is_made=while_down_is_made, history=alongside.database,
                                       with_down=with_down)
    with scratch_history(ctx, handler, provider, env_name) as (scratch_url, db):
        return handler.diff_schema(database_url=scratch_url, from_database=True, while_up_runs=while_up_runs,
                                   while_down_is_made=while_down_is_made,
                                   history=lambda: contextlib.nullcontext(db), with_down=with_down)


def history_schema_changes(ctx: Context, env_name: str) -> tuple[list[SchemaChange] | None, list[str]]:
    """The schema drift a status or health check reports: each step of the diff from the whole migration
    folder to the schema, computed as generate-migration computes it (scratch databases on `env_name`'s
    server, never its own database), and the diff's warnings. None when the tool has no schema."""
    loaded = ctx.load()
    from faber_db.drift import schema_changes
    from faber_db.handlers import get_handler

    handler = get_handler(loaded)
    if not handler.diffs_schema():
        return None, []
    _require_schema(loaded, handler)
    diff = _diff(ctx, handler, loaded.config.database.provider, env_name, lambda _up_sql: None,  # no analysis
                 with_down=False)  # drift reads the up script only
    return schema_changes(diff, handler.summarize), diff.warnings


@contextlib.contextmanager
def scratch_history(ctx: Context, handler: MigrationHandler, provider: str, env_name: str
                    ) -> Iterator[tuple[str, Database]]:
    """The URL of a database holding the replayed migration history, and a connection to it, gone
    afterwards (also on errors and Ctrl-C): the environment's shadow database when one is configured
    (emptied first, as a shadow database is), else a scratch database faber-db creates and always drops
    (engines.scratch)."""
    from faber_db.engines import database_identity
    from faber_db.engines.scratch import scratch_history_database
    from faber_db.redact import register_url

    target = ctx.target(env_name)
    shadow = os.environ.get(target.env.shadow_url_env, "") if target.env.shadow_url_env else ""
    if shadow:
        register_url(shadow, target.env.shadow_url_env or "SHADOW_DATABASE_URL")
        if database_identity(provider, shadow, handler.schema_dir) == database_identity(
                provider, target.url, handler.schema_dir):
            raise FaberError("INVALID_ARGUMENT", f"${target.env.shadow_url_env} names {target.name}'s own database",
                             "A shadow database is emptied before each use: point it at a database of its own.")
    with scratch_history_database(provider, target.url, shadow_url=shadow or None) as (url, db):
        register_url(url, "FABER_SCRATCH_DATABASE_URL")
        replay(db, handler.local_migrations())
        yield url, db


def replay(db: Database, migrations: list[LocalMigration]) -> None:
    """Apply each migration's SQL as the tool does (Database.run_script). A migration that fails is the
    history's problem, as the tool would say it."""
    for migration in migrations:
        script = migration.up_text()
        if not _COMMENT_OR_SPACE.sub("", script):
            continue  # an empty migration: nothing to run (an empty query is an error to some drivers)
        try:
            db.run_script(script)
        except FaberError as exc:
            raise FaberError(
                "MIGRATION_FAILED",
                f"The migration history does not apply cleanly: {migration.name} failed in a scratch database "
                f"({exc.message})",
                f"Fix or remove {migration.name} (its SQL fails on an empty database), then generate again; "
                "nothing was written.",
                details={"migration": migration.name},
            ) from None


_COMMENT_OR_SPACE = re.compile(r"--[^\n]*|/\*.*?\*/|\s+", re.S)


class _ReplayAlongside:
    """The history replayed into a scratch database on a thread while the tool diffs, where a server
    does the work (the thread only waits on it); the database is dropped on exit, once the replay is
    done. `database()` waits for it, and a failed replay raises there. Elsewhere (SQLite, whose
    connections belong to the thread that opens them, and whose replay takes milliseconds)
    `database()` replays when asked. `migrations` reads the folder (on the thread, where there is one)."""

    def __init__(self, provider: str, server_url: str, migrations: Callable[[], list[LocalMigration]]) -> None:
        self.provider, self.server_url, self.migrations = provider, server_url, migrations
        self._stack = contextlib.ExitStack()
        self._thread: threading.Thread | None = None
        self._db: Database | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> _ReplayAlongside:
        return self

    def start(self) -> None:
        from faber_db.engines import engine

        if engine(self.provider).server_holds_databases:
            self._thread = threading.Thread(target=self._replay, daemon=True)
            self._thread.start()

    def _replay(self) -> None:
        from faber_db.engines.scratch import scratch_history_database

        try:
            _url, db = self._stack.enter_context(scratch_history_database(self.provider, self.server_url))
            replay(db, self.migrations())
            self._db = db
        except BaseException as exc:  # handed to database(), on the main thread
            self._error = exc

    @contextlib.contextmanager
    def database(self) -> Iterator[Database]:
        if self._thread is None:
            self._replay()
        else:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._db is not None
        yield self._db

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._thread.join()
        self._stack.close()


class _Analysis:
    """The up script's risk analysis. `prepare` replays the history into the analyzer while the tool
    computes the up script (faber-db only waits for it then; ~0.1 s for 50 SQLite migrations, ~0.2 s
    for 160 PostgreSQL ones, the parser's import included). `start` analyses the up script on a thread
    of its own as soon as it is known to need it (it is not plainly additive), so that it overlaps
    the making of the down script instead of following it. The migration folder is read once, when
    first needed (by `prepare`, after the tool has started)."""

    def __init__(self, provider: str, read_migrations: Callable[[], list[LocalMigration]]) -> None:
        self.provider, self._read_migrations = provider, read_migrations
        self._sql: str | None = None
        self._result: list[Finding] | BaseException | None = None
        self._thread: threading.Thread | None = None
        self._prepared: HistoryAnalysis | BaseException | None = None

    @functools.cached_property
    def migrations(self) -> list[LocalMigration]:
        return self._read_migrations()

    @functools.cached_property
    def history(self) -> list[tuple[str, str]]:
        """Each migration's name and SQL."""
        return [(m.name, m.up_text()) for m in self.migrations]

    def prepare(self) -> None:
        from faber_db.safety import HistoryAnalysis

        try:
            self._prepared = HistoryAnalysis(self.provider, self.history)
        except BaseException as exc:  # raised where the findings are asked for, as without `prepare`
            self._prepared = exc

    def keeps_every_column(self, declared: dict[str, frozenset[str]] | None) -> bool:
        """Whether the schema still declares every table and column the history leaves (known once
        `prepare` has run): then the change drops none of them."""
        from faber_db.safety import HistoryAnalysis

        if declared is None or not isinstance(self._prepared, HistoryAnalysis):
            return False
        return all(table in declared and columns is not None and columns <= declared[table]
                   for table, columns in self._prepared.tables().items())

    def _analyze(self, up_sql: str) -> list[Finding]:
        from faber_db.safety import analyze_sql

        prepared, self._prepared = self._prepared, None  # an analyzer analyses one migration
        if isinstance(prepared, BaseException):
            raise prepared
        if prepared is not None:
            return prepared.findings(up_sql)
        return analyze_sql(up_sql, self.provider, history=self.history)

    def start(self, up_sql: str) -> None:
        self._sql = up_sql
        self._thread = threading.Thread(target=self._run, args=(up_sql,), daemon=True)
        self._thread.start()

    def _run(self, up_sql: str) -> None:
        try:
            self._result = self._analyze(up_sql)
        except BaseException as exc:  # handed to the main thread, which raises it
            self._result = exc

    def findings(self, up_sql: str) -> list[Finding]:
        if self._thread is None or self._sql != up_sql:
            return self._analyze(up_sql)
        self._thread.join()
        if isinstance(self._result, BaseException):
            raise self._result
        return list(self._result or [])


def _analyze(diff: SchemaDiff, provider: str, analysis: _Analysis) -> tuple[list[Finding], list[str]]:
    """Risk findings of the up script, and what the down script destroys. The history (the existing
    migrations' SQL) tells the analysis which columns the tables have, so a SQLite table redefinition
    that leaves a column out is reported as the column drop it is; the down script runs after the up
    one. A down script derived from the up one says itself what it drops (no parser needed)."""
    from faber_db.safety import analyze_sql, data_loss_message

    findings = analysis.findings(diff.up_sql)
    if diff.down_drops is not None:
        return findings, [data_loss_message(table, column) for table, column in diff.down_drops]
    # unnamed history: the down script's messages then read exactly like data_loss_message's
    down_findings = analyze_sql(diff.down_sql, provider,
                                history=[*(sql for _, sql in analysis.history), diff.up_sql])
    return findings, [f.message for f in down_findings if f.severity in ("high", "critical")]


_LOST_BY_UP = ("drop_table", "drop_column", "truncate", "delete_without_where", "update_without_where",
               "delete_where", "update_where", "alter_column_type", "drop_materialized_view")


def _down_data_loss(findings: list[Finding], down_losses: list[str]) -> list[str]:
    """What running down.sql cannot give back: data the up migration destroys (down.sql re-creates
    the structure, not the values) and data down.sql itself destroys."""
    lost = [f"down.sql cannot bring back what the migration destroys: {f.message}"
            for f in findings if f.kind in _LOST_BY_UP and f.severity in ("medium", "high", "critical")]
    lost += [f"down.sql itself destroys data: {message}" for message in down_losses]
    return lost
