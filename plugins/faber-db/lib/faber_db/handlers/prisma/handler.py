"""PrismaHandler: what the rest of faber-db calls (base.MigrationHandler), put together from the
package's modules.

Every Prisma call is non-interactive (stdin is /dev/null, an argument list, never a shell), gets
the selected environment's URL and no other environment's, and has a timeout after which its
whole process group is killed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.handlers.base import AppliedMigration, LocalMigration, SchemaDiff
from faber_db.handlers.prisma import diff, history, project
from faber_db.handlers.prisma.cli import PrismaCli
from faber_db.handlers.prisma.messages import error_from, schema_error

if TYPE_CHECKING:
    import subprocess

    from faber_db.config import LoadedConfig
    from faber_db.database import Database


class PrismaHandler:
    name = "prisma"
    empty_migration_sql = diff.EMPTY_MIGRATION

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

    # --- the migrations folder ---------------------------------------------------------------

    def local_migrations(self) -> list[LocalMigration]:
        return history.local_migrations(self.migrations_dir)

    # --- the history table ---------------------------------------------------------------------

    def applied_migrations(self, db: Database) -> list[AppliedMigration]:
        return history.applied(db)

    # --- the CLI -----------------------------------------------------------------------------------

    def cli(self) -> list[str]:
        return self.prisma.argv()

    def version(self) -> str | None:
        return self.prisma.version()

    def major_version(self) -> int:
        return self.prisma.major()

    def url_env_names(self) -> tuple[str, ...]:
        return project.url_env_names(self.schema_path, self.prisma_config_file())

    def prisma_config_file(self) -> Path | None:
        if self.config.prisma.config_file:
            return self.loaded.resolve(self.config.prisma.config_file)
        return project.find_config_file(self.root)

    def child_env(self, database_url: str | None) -> dict[str, str]:
        """The subprocess environment: this environment's URL under Prisma's names, and no other URL."""
        env = dict(os.environ)
        for other in self.config.environments.values():
            env.pop(other.url_env, None)
            if other.shadow_url_env:
                env.pop(other.shadow_url_env, None)
        if database_url is not None:
            for name in self.url_env_names():
                env[name] = database_url
        env["PRISMA_HIDE_UPDATE_MESSAGE"] = "1"
        # no update/telemetry check (a network round trip) on every automated call; a user who
        # sets CHECKPOINT_DISABLE themselves keeps their value
        env.setdefault("CHECKPOINT_DISABLE", "1")
        env.setdefault("NO_COLOR", "1")
        return env

    def run(self, args: list[str], *, database_url: str | None, timeout: float | None = None,
            stdin_text: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the Prisma CLI once; output comes back redacted. Raises only on timeout or a missing CLI."""
        return self.run_parallel([args], database_url=database_url, timeout=timeout, stdin_text=stdin_text)[0]

    # --- generating ------------------------------------------------------------------------------

    def summarize(self, sql: str) -> list[dict[str, str]]:
        return diff.summarize_script(sql)

    def manages_own_shadow(self) -> bool:
        return self.uses_driver_adapter()

    def uses_driver_adapter(self) -> bool:
        return project.uses_driver_adapter(self.prisma_config_file())

    def diff_schema(self, *, database_url: str | None, shadow_url: str | None = None,
                    down_shadow_url: str | None = None,
                    while_reverse_runs: Callable[[], None] | None = None) -> SchemaDiff:
        return diff.diff_schema(self, database_url=database_url, shadow_url=shadow_url,
                                down_shadow_url=down_shadow_url, while_reverse_runs=while_reverse_runs)

    def run_parallel(self, runs: list[list[str]], *, database_url: str | None,
                     extra_env: dict[str, str] | None = None, timeout: float | None = None,
                     stdin_text: str | None = None,
                     run_envs: list[dict[str, str]] | None = None, background: bool = False,
                     enough: Callable[[subprocess.CompletedProcess[str]], bool] | None = None,
                     ) -> list[subprocess.CompletedProcess[str]]:
        return self.prisma.run_parallel(runs, env={**self.child_env(database_url), **(extra_env or {})},
                                        timeout=timeout, stdin_text=stdin_text, run_envs=run_envs,
                                        background=background, enough=enough)

    def schema_error(self, result: subprocess.CompletedProcess[str]) -> FaberError | None:
        return schema_error(result, self.config.prisma.schema)

    def write_migration(self, name: str, up_sql: str, down_sql: str | None) -> Path:
        return diff.write_migration(self.migrations_dir, name, up_sql, down_sql, self.config.database.provider)

    # --- applying ---------------------------------------------------------------------------------

    def deploy(self, *, database_url: str, timeout: float | None = None,
               on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[str]:
        """`prisma migrate deploy`, streaming its lines (redacted) to `on_line` as they come."""
        return self.prisma.stream(["migrate", "deploy"], env=self.child_env(database_url), timeout=timeout,
                                  on_line=on_line)

    @staticmethod
    def applying_migration(line: str) -> str | None:
        """The migration name in Prisma's "Applying migration `name`" progress line."""
        match = re.search(r"Applying migration `([^`]+)`", line)
        return match[1] if match else None

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

    def generate_client(self, *, database_url: str | None) -> subprocess.CompletedProcess[str]:
        return self.run(["generate"], database_url=database_url)

    def execute_script(self, path: Path, *, database_url: str) -> subprocess.CompletedProcess[str]:
        """`prisma db execute --file`: run a SQL file (a down migration) against the database."""
        args = ["db", "execute", "--file", str(path)]
        if self.major_version() < 7:
            args += ["--schema", str(self.schema_path)]
        return self.run(args, database_url=database_url)

    def forget_migrations(self, db: Database, names: list[str]) -> None:
        history.forget(db, names)

    def error_from(self, result: subprocess.CompletedProcess[str], what: str) -> FaberError:
        return error_from(result, what)
