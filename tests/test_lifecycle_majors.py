"""Every faber-db command, as a user runs it, on each Prisma kit (6.15, 6.19 and 7.10.1, real CLI) and each
database (real SQLite, real PostgreSQL): init, status, generate-migration, migrate (dev, dry run,
approved protected deploy, a failing migration restored), rollback through `prisma db execute`,
backup and restore, health-check, drift, db-create and the FABER phases. Protected applies go the way a
person approves them: a dry run, its details.plan.plan_id, then `--approve <id>`.

The last tests are Prisma 7 projects whose prisma.config.ts names its own variables, and projects
whose URL faber-db cannot set.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from faber import describe, error_code, run_faber, tree_snapshot
from harness import PostgresServer, PrismaProject, make_project, pg_query, unique_db_name
from lifecycle import POST_MODEL, USER_MODEL, Lifecycle

pytestmark = pytest.mark.prisma_majors(6, "6.19", 7)

BROKEN = 'CREATE TABLE "Audit" ("id" INTEGER PRIMARY KEY);\nINSERT INTO "Nope" VALUES (1);\n'


def raw_next_migration(project: PrismaProject) -> str:
    """What this Prisma version's `migrate diff` writes as the next migration (its CLI prints one more
    newline than `migrate dev` writes to the file)."""
    scratch = f"file:{project.root / 'oracle.db'}" if project.provider == "sqlite" else project.database_url
    out = project.prisma("migrate", "diff", "--from-migrations", "prisma/migrations", project.to_schema,
                         project.schema_arg, "--script", database_url=scratch).stdout
    (project.root / "oracle.db").unlink(missing_ok=True)
    assert out.endswith("\n\n"), repr(out[-20:])
    return out[:-1]


def approve(life: Lifecycle, *args: str, expect: int | None = 0) -> dict[str, Any]:
    """A protected operation as a person approves it: the dry run's plan id, then the apply."""
    dry = life.faber(*args, "--dry-run")
    details = dry["details"]
    plan_id = details["plan"]["plan_id"] if "plan" in details else details["plan_id"]
    return life.faber(*args, "--approve", plan_id, expect=expect)


def server_databases(life: Lifecycle) -> set[str]:
    url = life.urls["DEV_DATABASE_URL"]
    if url.startswith("file:"):
        return set()
    return {r["datname"] for r in pg_query(url, "SELECT datname FROM pg_database")}


def write(life: Lifecycle, environment: str, sql: str) -> None:
    url = life.urls[{"dev": "DEV_DATABASE_URL", "staging": "STAGING_DATABASE_URL",
                     "production": "PROD_DATABASE_URL"}[environment]]
    if url.startswith("file:"):
        with closing(sqlite3.connect(url.removeprefix("file:"))) as conn:
            conn.execute(sql)
            conn.commit()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.mark.client_generation
def test_generate_deploy_check_and_roll_back(lifecycle: Lifecycle) -> None:
    life, project = lifecycle, lifecycle.project
    init = project.migration_names()[0]
    assert life.faber("status", "dev")["details"]["pending"] == [init]
    dev = life.faber("migrate", "dev")["details"]
    assert dev["applied"] == [init]
    step = next(s for s in dev["steps"] if s["name"] == "generate_client")
    if project.major >= 7:  # the 7.10 kit installs no @prisma/client (npm has no 7.10 of it): said so, skipped
        assert step["status"] == "skipped" and "@prisma/client" in step["message"], step
    else:
        assert dev["client_generated"] is True and step["status"] == "ok", step

    project.write_schema(USER_MODEL + "\n" + POST_MODEL)
    expected = raw_next_migration(project)
    databases = server_databases(life)
    generated = life.faber("generate-migration", "add posts")
    migration = generated["details"]["migration"]
    assert generated["details"]["prisma_version"] == project.version
    folder = life.root / migration["path"]
    assert (folder / "migration.sql").read_text() == expected, "byte for byte what this Prisma writes"
    assert 'DROP TABLE' in (folder / "down.sql").read_text()
    assert server_databases(life) == databases, "no scratch or shadow database left behind"

    assert life.faber("migrate", "dev")["details"]["applied"] == [migration["name"]]
    assert life.faber("status", "dev")["details"]["up_to_date"] is True

    refused = life.faber("migrate", "production", expect=3)
    assert error_code(refused) == "APPROVAL_REQUIRED"
    deployed = approve(life, "migrate", "production")
    assert deployed["details"]["applied"] == [init, migration["name"]]
    assert deployed["details"]["backup"]["verified"] is True
    assert life.faber("health-check", "production")["details"]["level"] == "healthy"
    assert life.faber("status", "production", "--drift")["details"]["drift"] == []

    write(life, "production", 'CREATE TABLE "scratch" ("id" INTEGER PRIMARY KEY)')
    drifted = life.faber("status", "production", "--drift", expect=1)
    assert error_code(drifted) == "DRIFT_DETECTED", drifted
    drift = drifted["details"]["drift"]
    assert any(d["object"] == "table" and d["table"] == "scratch" for d in drift), drift
    write(life, "production", 'DROP TABLE "scratch"')

    # the down script drops the Post table: the person says so too
    rolled = approve(life, "rollback", "production", "--last", "1", "--allow-destructive")
    assert rolled["details"]["rolled_back"] == [migration["name"]] and rolled["details"]["strategy"] == "down"
    status = life.faber("status", "production")["details"]
    assert status["applied"] == [init] and status["pending"] == [migration["name"]]
    assert not life.rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'Post'"
                         if project.provider == "postgresql" else
                         "SELECT 1 FROM sqlite_master WHERE name = 'Post'", "production")


def test_a_failing_migration_is_restored_and_a_backup_comes_back(lifecycle: Lifecycle) -> None:
    life, project = lifecycle, lifecycle.project
    approve(life, "migrate", "production")
    write(life, "production", "INSERT INTO \"User\" (email, name) VALUES ('ada@example.com', 'Ada')")
    before = life.table("User", "production")

    project.add_migration("20990101000000_broken", BROKEN)
    failed = approve(life, "migrate", "production", expect=1)
    assert error_code(failed) == "MIGRATION_FAILED", describe(failed)
    # the message names the migration and quotes the database's own error line
    assert failed["message"].startswith("20990101000000_broken (") and "Nope" in failed["message"], failed["message"]
    assert failed["details"]["restored"] is True and failed["details"]["restore_verified"] is True
    status = life.faber("status", "production")["details"]
    assert status["failed"] == [] and status["pending"] == ["20990101000000_broken"]
    assert life.table("User", "production") == before
    (project.migrations_dir / "20990101000000_broken" / "migration.sql").unlink()
    (project.migrations_dir / "20990101000000_broken").rmdir()

    backup = life.faber("backup", "production", "--label", "before cleanup")["details"]["backup"]["id"]
    write(life, "production", 'DELETE FROM "User"')
    restored = approve(life, "restore", "production", "--from", backup)
    assert restored["details"]["restored_from"] == backup and restored["details"]["restore_verified"] is True
    assert life.table("User", "production") == before


def test_db_create_then_the_faber_phases(lifecycle: Lifecycle, request: pytest.FixtureRequest) -> None:
    life, project = lifecycle, lifecycle.project
    staging = life.urls["STAGING_DATABASE_URL"]
    if staging.startswith("file:"):
        assert not Path(staging.removeprefix("file:")).exists()
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        server.drop_database(staging.rsplit("/", 1)[-1])
    created = life.faber("db-create", "staging")
    assert created["details"]["created"] is True
    assert life.faber("db-create", "staging")["details"]["created"] is False, "idempotent"

    life.faber("migrate", "dev")
    project.write_schema(USER_MODEL + "\n" + POST_MODEL)
    architect = life.faber("faber", "architect", "--description", "add posts")
    name = architect["details"]["steps"][0]["details"]["migration"]["name"]
    assert name.endswith("_add_posts")
    assert life.faber("faber", "build")["details"]["steps"][0]["details"]["applied"] == [name]
    life.faber("faber", "evaluate")
    assert life.faber("status", "staging")["details"]["up_to_date"] is True
    waiting = life.faber("faber", "release", expect=3)
    plan_id = waiting["details"]["steps"][0]["details"]["plan"]["plan_id"]
    assert life.faber("status", "production")["details"]["applied"] == []
    life.faber("faber", "release", "--approve", plan_id)
    assert life.faber("status", "production")["details"]["applied"][-1] == name


# --- the project's own variable names ---------------------------------------------------------------


@pytest.mark.prisma_majors(7)
@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_prisma7_config_with_its_own_variable_names_works_end_to_end(
        provider: str, tmp_path: Path, kit_node_modules: Path, request: pytest.FixtureRequest) -> None:
    """prisma.config.ts reads APP_DB and APP_SHADOW_DB. Whatever those hold in the caller's shell, each
    environment's URL reaches Prisma through APP_DB, and generate replays the history into the
    developer's shadow database (APP_SHADOW_DB, the variable Prisma itself would use)."""
    server: PostgresServer | None = request.getfixturevalue("pg_server") if provider == "postgresql" else None
    project = make_project(tmp_path / "app", provider, USER_MODEL, kit_node_modules,  # type: ignore[arg-type]
                           url_env="APP_DB", shadow_env="APP_SHADOW_DB")
    databases = {name: _database(server, tmp_path, name) for name in ("dev", "production", "shadow", "decoy")}
    env: dict[str, str | None] = {"DEV_DATABASE_URL": databases["dev"], "PROD_DATABASE_URL": databases["production"],
                                  "APP_SHADOW_DB": databases["shadow"], "APP_DB": databases["decoy"]}
    try:
        def faber(*args: str, expect: int = 0) -> dict[str, Any]:
            code, result, stderr = run_faber(project.root, *args, env=env)
            assert code == expect, describe(result, stderr)
            return result

        init = faber("init")["details"]
        assert init["datasource_url_env"] == ["APP_DB"] and init["datasource_shadow_env"] == "APP_SHADOW_DB"
        generated = faber("generate-migration", "init")["details"]["migration"]
        assert 'CREATE TABLE "User"' in generated["sql"]
        project.write_schema(USER_MODEL + "\n" + POST_MODEL)
        posts = faber("generate-migration", "add posts")["details"]["migration"]
        assert 'CREATE TABLE "Post"' in posts["sql"] and 'CREATE TABLE "User"' not in posts["sql"]
        if server is not None:  # the history was replayed into the developer's shadow database, and kept there
            assert {r["table_name"] for r in pg_query(databases["shadow"], "SELECT table_name FROM "
                                                      "information_schema.tables WHERE table_schema = 'public'")} == {
                "User"}
            mistaken = run_faber(project.root, "generate-migration", "x",
                                 env={**env, "APP_SHADOW_DB": databases["dev"]})
            assert mistaken.returncode == 2 and error_code(mistaken.json) == "INVALID_ARGUMENT", mistaken
            assert "emptied" in mistaken.json["errors"][0]["hint"]
        assert faber("migrate", "dev")["details"]["applied"] == [generated["name"], posts["name"]]
        dry = faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
        assert faber("migrate", "production", "--approve", dry)["details"]["applied"] == [
            generated["name"], posts["name"]]
        assert faber("status", "production")["details"]["up_to_date"] is True
        decoy = PrismaProject(project.root, project.provider, project.node_modules, databases["decoy"])
        assert _tables(decoy) == set(), "APP_DB from the shell never reached Prisma"
    finally:
        if server is not None:
            for url in databases.values():
                server.drop_database(url.rsplit("/", 1)[-1])


@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_url_faber_db_cannot_set_is_refused_before_anything_runs(
        provider: str, tmp_path: Path, kit_node_modules: Path, request: pytest.FixtureRequest) -> None:
    """A hard-coded URL (Prisma 7: in prisma.config.ts; Prisma 6: in the schema and the adapter) would send
    every environment's deploy to that one database: refused, naming what to add, nothing changed."""
    server: PostgresServer | None = request.getfixturevalue("pg_server") if provider == "postgresql" else None
    project = make_project(tmp_path / "app", provider, USER_MODEL, kit_node_modules)  # type: ignore[arg-type]
    hard_coded = _database(server, tmp_path, "hard_coded")
    dev = _database(server, tmp_path, "dev")
    try:
        config_ts = project.root / "prisma.config.ts"
        if project.major >= 7:
            config_ts.write_text(config_ts.read_text().replace('url: env("DATABASE_URL")', f'url: "{hard_coded}"'))
        else:
            project.schema_path.write_text(project.schema_path.read_text().replace(
                'env("DATABASE_URL")', f'"{hard_coded}"'))
            config_ts.write_text(config_ts.read_text().replace("process.env.DATABASE_URL!", f'"{hard_coded}"'))
        project.add_migration("20240101000000_init", 'CREATE TABLE "User" ("id" INTEGER PRIMARY KEY);\n')
        env: dict[str, str | None] = {"DEV_DATABASE_URL": dev}
        assert run_faber(project.root, "init", env=env).returncode == 0
        tree = tree_snapshot(project.root)
        for args in (("generate-migration", "more"), ("migrate", "dev"), ("rollback", "dev")):
            code, result, stderr = run_faber(project.root, *args, env=env)
            assert code == 2 and error_code(result) == "DATASOURCE_NOT_FROM_ENV", describe(result, stderr)
            assert 'env("DATABASE_URL")' in result["errors"][0]["hint"]
            assert hard_coded not in result["message"] + stderr, "the URL itself is never printed"
        state = ".fractary/plugins/faber-db/"
        changed = {path for path, digest in tree_snapshot(project.root).items() if tree.get(path) != digest}
        # only faber-db's own records: the refusals audited (and the lock file dev's run took)
        assert changed <= {f"{state}audit.jsonl", f"{state}locks", f"{state}locks/dev.lock"}, changed
        refusals = [json.loads(line) for line in (project.root / state / "audit.jsonl").read_text().splitlines()]
        assert [r.get("error") for r in refusals[-2:]] == ["DATASOURCE_NOT_FROM_ENV"] * 2, refusals[-2:]
        for url in (hard_coded, dev):
            assert _tables(PrismaProject(project.root, project.provider, project.node_modules, url)) == set()
    finally:
        if server is not None:
            for url in (hard_coded, dev):
                server.drop_database(url.rsplit("/", 1)[-1])


def _database(server: PostgresServer | None, tmp_path: Path, name: str) -> str:
    """An empty database of the provider: a SQLite URL (no file yet), or a fresh PostgreSQL database."""
    if server is None:
        return f"file:{tmp_path / (name + '.db')}"
    return server.url(server.create_database(unique_db_name(name)))


def _tables(project: PrismaProject) -> set[str]:
    assert project.database_url is not None
    if project.provider == "sqlite":
        path = Path(project.database_url.removeprefix("file:"))
        if not path.exists():
            return set()
        with closing(sqlite3.connect(path)) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {r["table_name"] for r in pg_query(project.database_url, "SELECT table_name FROM information_schema.tables "
                                                                  "WHERE table_schema = 'public'")}
