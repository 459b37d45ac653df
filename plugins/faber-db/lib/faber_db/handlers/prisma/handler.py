"""PrismaHandler: what the rest of faber-db calls (base.MigrationHandler), put together from the
package's modules.

Every Prisma call is non-interactive (stdin is /dev/null, an argument list, never a shell), gets
the selected environment's URL and no other environment's -- through the variables the project's own
schema.prisma / prisma.config.ts read it from -- and has a timeout after which its process group is
killed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.handlers.base import AppliedMigration, LocalMigration, SchemaDiff, ToolOutcome, output_tail
from faber_db.handlers.prisma import diff, history, project
from faber_db.handlers.prisma.cli import PrismaCli
from faber_db.handlers.prisma.messages import datasource_error, error_from, schema_error

if TYPE_CHECKING:
    import subprocess

    from faber_db.config import LoadedConfig
    from faber_db.engines import Database
    from faber_db.results import Finding

# Prisma 7.9+ refuses resets and force pushes inside AI agents unless this holds the user's own words.
# faber-db runs neither, and never passes the user's consent on to anything it runs.
CONSENT_VARIABLE = "PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION"

# A shadow URL read with env() must be set for Prisma to load its config at all, even by commands that
# use no shadow database (all of faber-db's: generate replays the history itself). This one names
# nothing that exists, so a Prisma that did use it would fail instead of touching a real database.
_UNUSED_SHADOW = {"sqlite": "file:/nonexistent/faber-db-unused-shadow.db",
                  "postgresql": "postgresql://faber-db@127.0.0.1:1/faber_db_unused_shadow"}


class PrismaHandler:
    name = "prisma"
    display_name = "Prisma"
    deploy_description = "prisma migrate deploy (non-interactive; never migrate dev or reset)"
    history_table = history.HISTORY_TABLE
    empty_migration_sql = diff.EMPTY_MIGRATION
    diff_description = "prisma migrate diff"

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.root = loaded.project_root
        self.prisma = PrismaCli(self.root, self.config.prisma.command, self.config.prisma.timeout_seconds)

    @property
    def schema_path(self) -> Path:
        return self.loaded.resolve(self.config.prisma.schema)

    @property
    def schema_dir(self) -> Path:
        """Where relative SQLite `file:` paths start, as in the Prisma schema engine."""
        schema = self.schema_path
        return schema if schema.is_dir() else schema.parent

    @property
    def migrations_dir(self) -> Path:
        return self.loaded.resolve(self.config.prisma.migrations_dir)

    # --- the history ---------------------------------------------------------------------------------

    def local_migrations(self) -> list[LocalMigration]:
        return history.local_migrations(self.migrations_dir, self.root)

    def applied_migrations(self, db: Database) -> list[AppliedMigration]:
        return history.applied(db)

    def forget_migrations(self, db: Database, names: list[str]) -> None:
        history.forget(db, names)

    # --- the CLI and what it is given -------------------------------------------------------------

    def cli(self) -> list[str]:
        return self.prisma.argv()

    def version(self) -> str | None:
        return self.prisma.version()

    def major_version(self) -> int:
        return self.prisma.major()

    def declared_tables(self) -> dict[str, frozenset[str]] | None:
        try:
            return project.declared_tables(project.read_schema_text(self.schema_path))
        except OSError:
            return None

    def database_schemas(self) -> list[str]:
        """multiSchema: the datasource's `schemas`, which Prisma manages besides the URL's."""
        try:
            datasource = project.parse_datasource(project.read_schema_text(self.schema_path))
        except OSError:
            return []
        return list(datasource.schemas) if datasource else []

    def prisma_config_file(self) -> Path | None:
        if self.config.prisma.config_file:
            return self.loaded.resolve(self.config.prisma.config_file)
        return project.find_config_file(self.root)

    @cached_property
    def url_sources(self) -> project.UrlSources:
        """The variables this project's Prisma reads the URL and the shadow URL from."""
        return project.url_sources(self.schema_path, self.prisma_config_file(), self.major_version())

    def config_args(self) -> list[str]:
        """Prisma 7: `--config` naming the project's prisma.config.ts (its datasource is the only URL)."""
        config_file = self.prisma_config_file()
        return ["--config", str(config_file)] if config_file and self.major_version() >= 7 else []

    def child_env(self, database_url: str | None) -> dict[str, str]:
        """The subprocess environment: this environment's URL in the variables the project reads it from,
        and no other environment's URL."""
        sources = self.url_sources
        env = dict(os.environ)
        for other in self.config.environments.values():
            env.pop(other.url_env, None)
            if other.shadow_url_env:
                env.pop(other.shadow_url_env, None)
        for name in sources.url:
            env.pop(name, None)
        if sources.shadow:
            env.pop(sources.shadow.name, None)
        env.pop(CONSENT_VARIABLE, None)
        if database_url is not None:
            if sources.unreadable:
                raise datasource_error(sources)
            env.update(dict.fromkeys(sources.url, database_url))
            if sources.shadow and sources.shadow.required:
                env[sources.shadow.name] = _UNUSED_SHADOW.get(self.config.database.provider, _UNUSED_SHADOW["sqlite"])
        env["PRISMA_HIDE_UPDATE_MESSAGE"] = "1"
        # no update/telemetry check (a network round trip) on every automated call; a user who
        # sets CHECKPOINT_DISABLE themselves keeps their value
        env.setdefault("CHECKPOINT_DISABLE", "1")
        env.setdefault("NO_COLOR", "1")
        return env

    def check_datasource(self) -> None:
        """Raise before anything changes when Prisma could not be pointed at an environment."""
        if self.url_sources.unreadable:
            raise datasource_error(self.url_sources)

    def run(self, args: list[str], *, database_url: str | None, timeout: float | None = None,
            stdin_text: str | None = None, while_running: Callable[[], None] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """Run the Prisma CLI once; output comes back redacted. Raises only on timeout or a missing CLI.
        `while_running`: called once Prisma has started, before its output is read."""
        return self.prisma.run([*args, *self.config_args()], env=self.child_env(database_url), timeout=timeout,
                               stdin_text=stdin_text, while_running=while_running)

    # --- generating ------------------------------------------------------------------------------

    def summarize(self, sql: str) -> list[dict[str, str]]:
        return diff.summarize_script(sql)

    @staticmethod
    def warnings_header(findings: list[Finding]) -> str:
        return diff.warnings_header(findings)

    def uses_driver_adapter(self) -> bool:
        return project.uses_driver_adapter(self.prisma_config_file())

    def diffs_schema(self) -> bool:
        return True

    def diffs_from_database(self) -> bool:
        """True when Prisma diffs a database faber-db has replayed the history into (Prisma 7's
        --from-config-datasource; Prisma 6's --from-schema-datasource with the native engine); False
        with a Prisma 6 driver adapter, which accepts only --from-migrations and replays the history into
        a shadow database of its own."""
        return self.major_version() >= 7 or not self.uses_driver_adapter()

    def diff_schema(self, *, database_url: str | None, from_database: bool,
                    while_up_runs: Callable[[], None] | None = None,
                    while_down_is_made: Callable[[str], None] | None = None,
                    history: Callable[[], AbstractContextManager[Database]] | None = None,
                    with_down: bool = True) -> SchemaDiff:
        return diff.diff_schema(self, database_url=database_url, from_database=from_database,
                                while_up_runs=while_up_runs, while_down_is_made=while_down_is_made, history=history,
                                with_down=with_down)

    def schema_error(self, result: subprocess.CompletedProcess[str]) -> FaberError | None:
        return schema_error(result, self.config.prisma.schema)

    def write_migration(self, name: str, up_sql: str, down_sql: str | None) -> Path:
        return diff.write_migration(self.migrations_dir, name, up_sql, down_sql, self.config.database.provider)

    # --- applying ---------------------------------------------------------------------------------

    def deploy(self, *, database_url: str, timeout: float | None = None,
               on_line: Callable[[str], None] | None = None) -> ToolOutcome:
        """`prisma migrate deploy`, streaming its lines (redacted) to `on_line` as they come."""
        try:
            done = self.prisma.stream(["migrate", "deploy", *self.config_args()], env=self.child_env(database_url),
                                      timeout=timeout, on_line=on_line)
        except FaberError as exc:
            if exc.code != "PRISMA_TIMEOUT":
                raise
            return ToolOutcome(ok=False, output=str(exc.details.get("prisma_output", "")), error=exc, timed_out=True)
        if done.returncode == 0:
            return ToolOutcome(ok=True, output=output_tail(done.stdout))
        return ToolOutcome(ok=False, output=output_tail(done.stdout), error=error_from(done, "prisma migrate deploy"))

    @staticmethod
    def applying_migration(line: str) -> str | None:
        """The migration name in Prisma's "Applying migration `name`" progress line."""
        match = re.search(r"Applying migration `([^`]+)`", line)
        return match[1] if match else None

    @staticmethod
    def fixes_without_restore(failed: str, environment: str) -> list[str]:
        """Prisma records a failed migration and refuses to deploy past it until it is resolved."""
        return [f"Undo what {failed} changed by hand (its statements before the failing one may have run), fix "
                f"its SQL, then `npx prisma migrate resolve --rolled-back {failed}` and `faber-db migrate "
                f"{environment}` again",
                f"or, if the statements did run after all: `npx prisma migrate resolve --applied {failed}`"]

    def client_generation(self) -> tuple[bool, str]:
        """Whether `prisma generate` makes sense here, and why not when it does not."""
        try:
            text = project.strip_comments(project.read_schema_text(self.schema_path))
        except OSError:
            return False, "schema not readable"
        if not re.search(r"generator\s+\w+\s*\{", text):
            return False, "the schema has no generator block"
        if "prisma-client" in text and not (self.root / "node_modules" / "@prisma" / "client").is_dir():
            return False, "@prisma/client is not installed in the project"
        return True, ""

    def generate_client(self, *, database_url: str | None) -> ToolOutcome:
        return _outcome(self.run(["generate"], database_url=database_url), "prisma generate")

    def execute_script(self, path: Path, *, database_url: str, what: str) -> ToolOutcome:
        """`prisma db execute --file`: run a SQL file (a down migration) against the database (Prisma 6
        needs the schema for the URL; Prisma 7 takes only --config/--file/--stdin)."""
        args = ["db", "execute", "--file", str(path)]
        if self.major_version() < 7:
            args += ["--schema", str(self.schema_path)]
        return _outcome(self.run(args, database_url=database_url), what)


def _outcome(done: subprocess.CompletedProcess[str], what: str) -> ToolOutcome:
    output = output_tail(done.stderr + "\n" + done.stdout)
    if done.returncode == 0:
        return ToolOutcome(ok=True, output=output)
    return ToolOutcome(ok=False, output=output, error=error_from(done, what))
