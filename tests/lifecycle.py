"""Shared helpers for the end-to-end lifecycle tests: a Prisma project on either provider, run
through the real `faber-db` with every environment's URL set, and plain SQL reads of its data."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from faber import run_faber
from harness import PostgresServer, PrismaProject, pg_query, sqlite_query, unique_db_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

USER_MODEL = """model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
}
"""

POST_MODEL = """model Post {
  id    Int    @id @default(autoincrement())
  title String
}
"""

USER_WITH_BIO = USER_MODEL.replace("  name  String?\n", "  name  String?\n  bio   String?\n")


@dataclass
class Lifecycle:
    """A project whose dev/staging/production each point at a database of its own."""

    project: PrismaProject
    urls: dict[str, str]

    @property
    def root(self) -> Path:
        return self.project.root

    @property
    def env(self) -> dict[str, str | None]:
        return dict(self.urls)

    def faber(self, *args: str, expect: int | None = 0) -> dict[str, Any]:
        run = run_faber(self.root, *args, env=self.env)
        result = run.checked()
        if expect is not None:
            assert run.returncode == expect, f"faber-db {' '.join(args)}: exit {run.returncode}\n{result}\n{run.stderr}"
        return result

    def rows(self, sql: str, environment: str = "dev") -> list[dict[str, Any]]:
        url = self.urls[VARIABLES[environment]]
        if url.startswith("file:"):
            return sqlite_query(Path(url[len("file:"):]), sql)
        return pg_query(url, sql)

    def table(self, table: str, environment: str = "dev") -> list[dict[str, Any]]:
        """Every row of a table in a stable order, for before/after comparisons."""
        return sorted(self.rows(f'SELECT * FROM "{table}"', environment), key=repr)


CONFIG = Path(".fractary/plugins/faber-db/config.toml")
VARIABLES = {"dev": "DEV_DATABASE_URL", "staging": "STAGING_DATABASE_URL", "production": "PROD_DATABASE_URL"}


def make_lifecycle(project: PrismaProject, tmp_path: Path, pg_server: PostgresServer | None, *,
                   client_generation: bool = False) -> Lifecycle:
    """dev is the fixture's database; staging and production get fresh ones of the same kind
    (PostgreSQL: the caller drops `created_databases(lifecycle)` afterwards).

    `client_generation`: keep init's default, under which `migrate dev` runs `prisma generate` (about
    a second of real Prisma per deploy). Off, dev's config says `generate_client = false`: the tests
    that check client generation ask for it (the `client_generation` mark), the others skip its cost."""
    assert project.database_url
    urls = {"DEV_DATABASE_URL": project.database_url}
    for variable in ("STAGING_DATABASE_URL", "PROD_DATABASE_URL"):
        if project.provider == "sqlite":
            urls[variable] = f"file:{tmp_path / (variable.lower() + '.db')}"
        else:
            assert pg_server is not None
            name = unique_db_name("lc")
            pg_server.create_database(name)
            urls[variable] = pg_server.url(name)
    lifecycle = Lifecycle(project, urls)
    lifecycle.faber("init")
    if not client_generation:
        config = project.root / CONFIG
        data = tomllib.loads(config.read_text("utf-8"))
        data["environments"]["dev"]["generate_client"] = False
        config.write_text(tomli_w.dumps(data), "utf-8")
    return lifecycle


def created_databases(lifecycle: Lifecycle) -> list[str]:
    return [url.rsplit("/", 1)[-1].split("?")[0] for var, url in lifecycle.urls.items()
            if var != "DEV_DATABASE_URL" and not url.startswith("file:")]
