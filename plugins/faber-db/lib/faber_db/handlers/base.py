"""What every migration-tool handler offers the rest of faber-db, and the plain data it returns."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from faber_db.engines import Database
from faber_db.errors import FaberError
from faber_db.files import read_project_file
from faber_db.results import Finding


@dataclass(frozen=True)
class LocalMigration:
    name: str
    path: Path  # the migration's folder (or file)
    sql_path: Path
    checksum: str
    down_path: Path | None = None
    # the up and down scripts when the handler read them already (a file holding both sections);
    # None: the whole of sql_path is the up script, the whole of down_path the down script
    up_sql: bytes | None = None
    down_sql: bytes | None = None

    def up_bytes(self, project_root: Path) -> bytes:
        """The up script's bytes: what the checksum covers and what runs."""
        if self.up_sql is not None:
            return self.up_sql
        return read_project_file(self.sql_path, project_root, what="migration")

    def up_text(self) -> str:
        """The up script for a replay or an analysis."""
        if self.up_sql is not None:
            return self.up_sql.decode("utf-8", errors="replace")
        return self.sql_path.read_text("utf-8", errors="replace")

    def down_bytes(self, project_root: Path) -> bytes | None:
        if self.down_sql is not None:
            return self.down_sql
        return read_project_file(self.down_path, project_root, what="down script") if self.down_path else None


@dataclass(frozen=True)
class AppliedMigration:
    """One row of the tool's history table."""

    name: str
    checksum: str
    started_at: str | None
    finished_at: str | None
    rolled_back_at: str | None
    logs: str | None = None
    applied_steps: int = 0


@dataclass(frozen=True)
class SchemaDiff:
    """The two scripts `generate-migration` writes: history → schema, and schema → history."""

    changed: bool
    up_sql: str
    down_sql: str
    # When down_sql was derived by faber-db (from up_sql, or from the catalog of the history): the data
    # it drops, as (table, column or None for the whole table). None: down_sql is the tool's own, analyse it.
    down_drops: list[tuple[str, str | None]] | None = None
    # what the user should know about the run (e.g. a scratch database that could not be dropped)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ToolOutcome:
    """What running the tool (a deploy, a down script, client generation) came to, in no tool's terms."""

    ok: bool
    # the redacted tail of the tool's (or the database's) output a person needs to see what happened
    output: str = ""
    # why it failed, worded by the handler (None when ok)
    error: FaberError | None = None
    # the migration that failed, when the tool knows it
    failed_migration: str | None = None
    # the tool was stopped by its timeout (its database sessions may outlive it)
    timed_out: bool = False


@dataclass(frozen=True)
class ToolSetup:
    """What `faber-db init` found of a migration tool's project: the tool's config section to write,
    and what the result tells the person."""

    tool: str  # database.migration_tool, and the config section `section` goes into
    provider: str
    section: object  # the tool's section of config.FaberConfig (its dataclass there)
    schema: str
    migrations_dir: str
    tool_config: str | None = None  # the tool's own config file, when it has one
    tool_command: list[str] = field(default_factory=list)
    tool_version: str | None = None
    # the variables the project reads its URL / its shadow database's URL from (faber-db sets them to
    # the chosen environment's URL for each call of the tool)
    url_env: list[str] = field(default_factory=list)
    shadow_env: str | None = None
    warnings: list[str] = field(default_factory=list)
    suggested_fixes: list[str] = field(default_factory=list)


def output_tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class MigrationHandler(Protocol):
    name: str
    # how results and the text output name the tool (the "<display_name> output" of a result)
    display_name: str
    # what `migrate` says it runs (the migration_mode step)
    deploy_description: str
    # the table the tool records applied migrations in (not user data: drift and snapshots skip it)
    history_table: str
    empty_migration_sql: str
    # what generate-migration says it runs when it diffs the history against the schema
    diff_description: str

    @property
    def migrations_dir(self) -> Path: ...

    @property
    def schema_path(self) -> Path: ...

    @property
    def schema_dir(self) -> Path:
        """Where a relative SQLite file path in a URL starts."""
        ...

    def local_migrations(self) -> list[LocalMigration]: ...

    def applied_migrations(self, db: Database) -> list[AppliedMigration]: ...

    def version(self) -> str | None: ...

    def diffs_schema(self) -> bool:
        """True when `generate-migration` can compute a migration from a schema (diff_schema); False
        when it writes an empty migration file for the person to fill."""
        ...

    def diffs_from_database(self) -> bool:
        """True when the tool can diff a database faber-db replayed the history into; False when it
        replays the history itself (into a shadow database of its own)."""
        ...

    def check_datasource(self) -> None:
        """Raise when the tool could not be pointed at an environment's database."""
        ...

    def diff_schema(self, *, database_url: str | None, from_database: bool,
                    while_up_runs: Callable[[], None] | None = None,
                    while_down_is_made: Callable[[str], None] | None = None,
                    history: Callable[[], AbstractContextManager[Database]] | None = None,
                    with_down: bool = True) -> SchemaDiff:
        """`history`: opens a database holding the replayed history (the state before the change), from
        whose catalog the down script of a change that drops or alters something can be written.
        `while_up_runs`: called once while the tool computes the up script (work to overlap with it).
        `with_down`: False when only the up script is wanted (a drift check): no down script is made."""
        ...

    def summarize(self, sql: str) -> list[dict[str, str]]: ...

    def warnings_header(self, findings: list[Finding]) -> str:
        """The comment the tool puts on top of a generated migration that loses data ("" for none)."""
        ...

    def declared_tables(self) -> dict[str, frozenset[str]] | None:
        """The tables the schema declares, each with its columns, by their names in the database; None
        when the tool has no schema or its names cannot be read."""
        ...

    def database_schemas(self) -> list[str]:
        """Database schemas the history manages besides the URL's own (what backups cover too)."""
        ...

    def write_migration(self, name: str, up_sql: str, down_sql: str | None) -> Path: ...

    def deploy(self, *, database_url: str, timeout: float | None = None,
               on_line: Callable[[str], None] | None = None) -> ToolOutcome:
        """Apply every pending migration; a failure is an outcome (not raised) so the caller can restore."""
        ...

    def applying_migration(self, line: str) -> str | None:
        """The migration a progress line of `deploy` says is being applied, if any."""
        ...

    def fixes_without_restore(self, failed: str, environment: str) -> list[str]:
        """What a person does after `failed` failed on an environment no backup was taken of."""
        ...

    def client_generation(self) -> tuple[bool, str]: ...

    def generate_client(self, *, database_url: str | None) -> ToolOutcome: ...

    def execute_script(self, path: Path, *, database_url: str, what: str) -> ToolOutcome:
        """Run one SQL file (a down script) against the database; `what` names it in the error."""
        ...

    def forget_migrations(self, db: Database, names: list[str]) -> None: ...
