"""The Prisma handler: the only code in faber-db that knows Prisma's files, tables, command lines
and output. Everything Prisma-shaped (schema.prisma, prisma.config.ts, `<name>/migration.sql`,
`_prisma_migrations`, P-codes, CLI flags of Prisma 6 and 7) lives here.

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
from faber_db.handlers.prisma import history, project
from faber_db.handlers.prisma._lazy import LazyPattern
from faber_db.handlers.prisma.cli import PrismaCli
from faber_db.handlers.prisma.history import DOWN_FILE, LOCK_FILE, MIGRATION_FILE
from faber_db.handlers.prisma.messages import error_from, schema_error
from faber_db.handlers.prisma.project import DetectedProject, detect_project

if TYPE_CHECKING:
    import subprocess

    from faber_db.config import LoadedConfig
    from faber_db.database import Database

__all__ = ["DetectedProject", "PrismaHandler", "detect_project"]

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


class PrismaHandler:
    name = "prisma"
    empty_migration_sql = EMPTY_MIGRATION

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
        return summarize_script(sql)

    def manages_own_shadow(self) -> bool:
        return self.uses_driver_adapter()

    def uses_driver_adapter(self) -> bool:
        return project.uses_driver_adapter(self.prisma_config_file())

    def _diff_argv(self, *, reverse: bool, has_history: bool, shadow_url: str | None) -> list[str]:
        major = self.major_version()
        schema = str(self.schema_path)
        history = ["--from-migrations" if not reverse else "--to-migrations", str(self.migrations_dir)]
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

    def diff_schema(self, *, database_url: str | None, shadow_url: str | None = None,
                    down_shadow_url: str | None = None,
                    while_reverse_runs: Callable[[], None] | None = None) -> SchemaDiff:
        """The up `migrate diff` and its reverse (down.sql), side by side.

        Neither touches the environment's database: the history is replayed into a shadow database
        (Prisma's own for driver adapters, else `shadow_url` for the up diff and `down_shadow_url` for
        the down diff, which the caller creates and drops). Prisma wipes a shadow database when a diff
        starts, so two diffs never share one at the same time: with a single shadow they run in turn.

        The reverse diff runs at the lowest CPU priority. When the up script only creates things, its
        inverse is written without it (prisma_inverse) and it is stopped, so the common change costs
        about one Prisma run -- except where stopping it would strand a shadow database Prisma made
        on a PostgreSQL server (driver adapters). `while_reverse_runs` is called once the up diff has
        changes and the reverse one is still needed: work to overlap with it.
        """
        import subprocess

        from faber_db.handlers.prisma.inverse import Inverse, invert_additive

        has_history = bool(self.local_migrations())
        shadows = (shadow_url, down_shadow_url or shadow_url)
        runs = [self._diff_argv(reverse=r, has_history=has_history, shadow_url=s)
                for r, s in zip((False, True), shadows, strict=True)]
        major7 = self.major_version() >= 7
        envs = [{"SHADOW_DATABASE_URL": s} if s and major7 else {} for s in shadows]
        provider = self.config.database.provider
        may_stop_reverse = provider == "sqlite" or not self.manages_own_shadow()
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
            up = self.run_parallel(runs[:1], database_url=database_url, extra_env=envs[0])[0]
            results = [up] if reverse_not_needed(up) else [
                up, self.run_parallel(runs[1:], database_url=database_url, extra_env=envs[1])[0]]
        else:
            results = self.run_parallel(runs, database_url=database_url, run_envs=envs, background=True,
                                        enough=reverse_not_needed)
        up = results[0]
        # without the reverse diff's run: the derived script, or nothing (no change, or up failed)
        down = results[1] if len(results) == 2 else subprocess.CompletedProcess(
            runs[1], up.returncode, derived.sql if derived else "", "")
        for result, what in ((up, "prisma migrate diff"), (down, "prisma migrate diff (down)")):
            if result.returncode not in (0, 2):
                raise self.schema_error(result) or self.error_from(result, what)
        return SchemaDiff(changed=up.returncode == 2, up_sql=up.stdout, down_sql=down.stdout,
                          down_drops=derived.drops if derived else None)

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
        """Write `<migrations>/<name>/migration.sql` (+ down.sql) atomically; the lock file if missing."""
        directory = self.migrations_dir
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
                f'provider = "{self.config.database.provider}"\n', "utf-8")
        return final

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
