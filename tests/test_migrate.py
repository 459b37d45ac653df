"""`faber-db migrate` end to end: the real CLI, real Prisma 6.15, real SQLite and PostgreSQL.

Every check compares real data: the history table, every table's rows and the schema catalog,
read straight from the database before and after.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import PrismaProject, migration_checksum, migration_rows, pg_query, query

# --- helpers (tests/test_migrate_concurrency.py imports these) -----------------------------------


@dataclass
class FaberRun:
    returncode: int
    result: dict[str, Any]
    stdout: str
    stderr: str

    @property
    def details(self) -> dict[str, Any]:
        return self.result.get("details") or {}

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.result.get("errors") or []]


_SCRUBBED = ("CLAUDE_DB_CWD", "FABER_DB_CONFIG", "DATABASE_URL", "DEV_DATABASE_URL", "STAGING_DATABASE_URL",
             "PROD_DATABASE_URL")


def faber_command(project_root: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Popen keyword arguments for `faber-db args` in project_root (stdout a pipe, stdin /dev/null)."""
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    full_env.update(env or {})
    return {"args": [sys.executable, "-m", "faber_db", *args], "cwd": project_root, "env": full_env,
            "stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}


def parse_run(returncode: int, stdout: str, stderr: str) -> FaberRun:
    assert "Traceback (most recent call last)" not in stdout + stderr, stdout + stderr
    try:
        result = json.loads(stdout)
    except ValueError as exc:
        raise AssertionError(f"stdout is not one JSON object: {stdout!r}\nstderr: {stderr}") from exc
    assert isinstance(result, dict)
    return FaberRun(returncode, result, stdout, stderr)


def run_faber(project_root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> FaberRun:
    """The real CLI as a subprocess (a small local runner: the shared tests/faber.py is still in flux)."""
    kwargs = faber_command(project_root, *args, env=env)
    proc = subprocess.run(**kwargs, timeout=timeout, check=False)
    return parse_run(proc.returncode, proc.stdout, proc.stderr)


ADD_POSTS = (
    'CREATE TABLE "Post" ("id" INTEGER NOT NULL PRIMARY KEY, "title" TEXT NOT NULL, "authorId" INTEGER NOT NULL);\n'
)
ADD_NICK = 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n'
ADD_MORE = 'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);\n'
# statement 1 succeeds (adds a column, every row gets 'x'), statement 2 fails: duplicate values
FAILING = (
    'ALTER TABLE "User" ADD COLUMN "tag" TEXT NOT NULL DEFAULT \'x\';\n'
    'CREATE UNIQUE INDEX "User_tag_key" ON "User"("tag");\n'
)
AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")


def setup_faber(project: PrismaProject, tmp_path: Path, safety: dict[str, Any] | None = None) -> dict[str, str]:
    """`faber-db init`, all three environments on the fixture's database; returns the env for run_faber."""
    assert project.database_url is not None
    env = {
        "DEV_DATABASE_URL": project.database_url,
        "STAGING_DATABASE_URL": project.database_url,
        "PROD_DATABASE_URL": project.database_url,
        "CLAUDE_PLUGIN_DATA": str(tmp_path / "plugin-data"),
    }
    done = run_faber(project.root, "init", env=env)
    assert done.returncode == 0, done.result
    if safety:
        import tomli_w
        import tomllib

        config = project.root / ".fractary/plugins/faber-db/config.toml"
        data = tomllib.loads(config.read_text("utf-8"))
        data.setdefault("safety", {}).update(safety)
        config.write_text(tomli_w.dumps(data), "utf-8")
    return env


def seed_users(project: PrismaProject, count: int) -> None:
    rows = [(f"user{i}@example.com", f"User {i}" if i % 3 else None) for i in range(count)]
    if project.provider == "sqlite":
        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn:
            conn.executemany('INSERT INTO "User" (email, name) VALUES (?, ?)', rows)
            conn.commit()
    else:
        import psycopg

        assert project.database_url is not None
        with psycopg.connect(project.database_url, autocommit=True) as conn, conn.cursor() as cur:
            cur.executemany('INSERT INTO "User" (email, name) VALUES (%s, %s)', rows)


def history(project: PrismaProject) -> list[tuple[Any, ...]]:
    """_prisma_migrations, every column, as comparable tuples."""
    try:
        rows = migration_rows(project)
    except Exception:  # no history table yet
        return []
    return [tuple(str(v) for v in r.values()) for r in rows]


def applied_names(project: PrismaProject) -> list[str]:
    return [r["migration_name"] for r in migration_rows(project) if r["finished_at"] is not None]


def snapshot(project: PrismaProject) -> dict[str, Any]:
    """Schema (catalog) and every table's rows, _prisma_migrations included."""
    if project.provider == "sqlite":
        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn:
            schema = conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%' "
                "ORDER BY type, name").fetchall()
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            data = {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
            columns = {t: conn.execute(f'PRAGMA table_info("{t}")').fetchall() for t in tables}
        return {"schema": schema, "columns": columns, "data": data}
    assert project.database_url is not None
    url = project.database_url
    columns = pg_query(url, "SELECT table_name, column_name, ordinal_position, data_type, is_nullable, "
                            "column_default FROM information_schema.columns WHERE table_schema = 'public' "
                            "ORDER BY table_name, ordinal_position")
    indexes = pg_query(url, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                            "ORDER BY tablename, indexname")
    constraints = pg_query(url, "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS d "
                                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2")
    tables = [r["table_name"] for r in pg_query(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
             "AND table_type = 'BASE TABLE' ORDER BY table_name")]
    data = {t: sorted(repr(tuple(r.values())) for r in pg_query(url, f'SELECT * FROM "{t}"')) for t in tables}
    return {"columns": columns, "indexes": indexes, "constraints": constraints, "data": data}


def audit_lines(project: PrismaProject) -> list[dict[str, Any]]:
    path = project.root / AUDIT
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def step_names(done: FaberRun) -> list[str]:
    return [s["name"] for s in done.details["steps"]]


def assert_no_url(project: PrismaProject, *texts: str) -> None:
    assert project.database_url is not None
    secret = project.database_url if project.provider == "sqlite" else "s3cret-PW-9f"
    for text in texts:
        assert secret not in text


def status(project: PrismaProject, env: dict[str, str], environment: str) -> dict[str, Any]:
    done = run_faber(project.root, "status", environment, env=env)
    assert done.returncode == 0, done.result
    return done.details


# --- dev --------------------------------------------------------------------------------------------


def test_dev_applies_two_pending_migrations(sqlite_project: PrismaProject, tmp_path: Path) -> None:
    env = setup_faber(sqlite_project, tmp_path)
    sqlite_project.add_migration("20240102000000_posts", ADD_POSTS)
    names = sqlite_project.migration_names()
    assert len(names) == 2 and status(sqlite_project, env, "dev")["pending"] == names

    done = run_faber(sqlite_project.root, "migrate", "dev", env=env)

    assert done.returncode == 0, done.result
    assert done.result["status"] in ("success", "warning")
    assert done.details["applied"] == names
    assert applied_names(sqlite_project) == names
    steps = done.details["steps"]
    assert all(isinstance(s["duration_ms"], int) and s["duration_ms"] >= 0 and s["status"] for s in steps)
    for name in ("validate_parameters", "working_directory", "load_configuration", "migration_mode",
                 "pre_deployment_health_check", "check_pending_migrations", "approval", "create_backup",
                 "deploy_migrations", "post_deployment_health_check", "verify_all_applied", "audit_log"):
        assert name in step_names(done), (name, step_names(done))
    generate = next(s for s in steps if s["name"] == "generate_client")
    if done.details["client_generated"]:
        assert generate["status"] == "ok"
    else:  # the skip is explained
        assert generate["status"] in ("skipped", "warning") and generate["message"]
    assert next(s for s in steps if s["name"] == "create_backup")["status"] == "skipped"  # dev: optional
    assert done.details["backup"] is None
    assert_no_url(sqlite_project, done.stdout, done.stderr)

    after = status(sqlite_project, env, "dev")
    assert after["up_to_date"] is True and after["applied"] == names and after["pending"] == []
    assert sqlite_project.prisma("migrate", "status", check=False).returncode == 0

    # nothing left: a second run is a no-op success
    again = run_faber(sqlite_project.root, "migrate", "dev", env=env)
    assert again.returncode == 0 and again.details["applied"] == []
    assert applied_names(sqlite_project) == names


# --- production: plan, approval, backup ----------------------------------------------------------


@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_production_needs_the_previewed_plan(provider: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    project: PrismaProject = request.getfixturevalue(
        "sqlite_deployed_project" if provider == "sqlite" else "pg_deployed_project")
    env = setup_faber(project, tmp_path)
    seed_users(project, 25)
    project.add_migration("20240102000000_nick", ADD_NICK)
    before = snapshot(project)

    # no --approve: refused with the plan's content but no approvable id, nothing changed
    refused = run_faber(project.root, "migrate", "production", env=env)
    assert refused.returncode == 3, refused.result
    assert refused.codes == ["APPROVAL_REQUIRED"]
    plan = refused.details["plan"]
    assert plan["plan_id"] is None and [m["name"] for m in plan["pending"]] == ["20240102000000_nick"]
    assert "--dry-run" in refused.result["errors"][0]["hint"]
    sql_path = project.migrations_dir / "20240102000000_nick" / "migration.sql"
    assert plan["pending"][0]["checksum"] == migration_checksum(sql_path)
    assert isinstance(plan["findings"], list)
    assert snapshot(project) == before

    # a plan id can be approved only when a dry run recorded it: an id made up from public facts is unknown
    made_up = run_faber(project.root, "migrate", "production", "--approve", "0123456789abcdef", env=env)
    assert made_up.returncode == 3 and made_up.codes == ["PLAN_UNKNOWN"], made_up.result

    # the dry run records a plan and changes nothing; each dry run has its own id
    dry = run_faber(project.root, "migrate", "production", "--dry-run", env=env)
    assert dry.returncode == 0, dry.result
    old_plan_id = dry.details["plan"]["plan_id"]
    assert old_plan_id and old_plan_id != run_faber(project.root, "migrate", "production", "--dry-run",
                                                    env=env).details["plan"]["plan_id"]
    assert snapshot(project) == before

    # a new migration after the preview: the old plan id is refused, and no new id is handed out
    project.add_migration("20240103000000_posts", ADD_POSTS)
    stale = run_faber(project.root, "migrate", "production", "--approve", old_plan_id, env=env)
    assert stale.returncode == 3, stale.result
    assert stale.codes == ["PLAN_CHANGED"]
    assert "migrations" in stale.result["message"]
    assert stale.details["plan"]["plan_id"] is None
    assert "--dry-run" in stale.result["errors"][0]["hint"]
    assert snapshot(project) == before

    dry = run_faber(project.root, "migrate", "production", "--dry-run", env=env)
    plan_id = dry.details["plan"]["plan_id"]
    assert [m["name"] for m in dry.details["plan"]["pending"]] == ["20240102000000_nick", "20240103000000_posts"]

    # the backup cannot be skipped in production, and refusing it does not spend the plan
    no_backup = run_faber(project.root, "migrate", "production", "--approve", plan_id, "--skip-backup", env=env)
    assert no_backup.returncode == 3, no_backup.result
    assert no_backup.codes == ["BACKUP_REQUIRED"]
    assert snapshot(project) == before
    # every refused attempt is in the audit trail, with its code and the plan id it named
    refusals = audit_lines(project)
    assert [(a["status"], a["error"]) for a in refusals] == [
        ("failure", "APPROVAL_REQUIRED"), ("failure", "PLAN_UNKNOWN"), ("failure", "PLAN_CHANGED"),
        ("failure", "BACKUP_REQUIRED")]
    assert [a["plan_id"] for a in refusals] == [None, "0123456789abcdef", old_plan_id, plan_id]
    assert all(a["environment"] == "production" and a["applied"] == [] and a["outcome"] == "refused"
               for a in refusals)

    # the previewed plan: applied, with a verified backup on disk
    done = run_faber(project.root, "migrate", "production", "--approve", plan_id, env=env)
    assert done.returncode == 0, done.result
    assert done.details["applied"] == ["20240102000000_nick", "20240103000000_posts"]
    assert applied_names(project) == project.migration_names()
    backup = done.details["backup"]
    assert backup["id"] and backup["verified"] is True
    backup_file = Path(backup["path"])
    backup_file = backup_file if backup_file.is_absolute() else project.root / backup_file
    assert backup_file.is_file() and backup_file.stat().st_size > 0
    assert next(s for s in done.details["steps"] if s["name"] == "create_backup")["status"] == "ok"
    users = query(project, 'SELECT email, name, nick FROM "User" ORDER BY id')
    assert len(users) == 25 and all(u["nick"] is None for u in users)
    assert_no_url(project, done.stdout, done.stderr, backup_file.with_suffix(".json").read_text()
                  if backup_file.with_suffix(".json").is_file() else "")

    # the audit trail: one line for the apply, naming the plan, never a URL
    lines = audit_lines(project)
    assert len(lines) == 5
    entry = lines[-1]
    assert entry["status"] in ("success", "warning") and entry["error"] is None
    assert entry["applied"] == done.details["applied"] and entry["backup_id"] == backup["id"]
    assert entry["environment"] == "production" and entry["plan_id"] == plan_id and entry["operation"] == "migrate"
    assert_no_url(project, (project.root / AUDIT).read_text("utf-8"))

    assert status(project, env, "production")["up_to_date"] is True

    # a plan applies once: with more to do, the spent id is refused
    project.add_migration("20240104000000_more", ADD_MORE)
    again = run_faber(project.root, "migrate", "production", "--approve", plan_id, env=env)
    assert again.returncode == 3 and again.codes == ["PLAN_USED"], again.result
    assert applied_names(project) == project.migration_names()[:-1]


# --- destructive changes -----------------------------------------------------------------------------


def test_drop_column_is_shown_with_row_counts_and_needs_allow_destructive(
        sqlite_deployed_project: PrismaProject, tmp_path: Path) -> None:
    project = sqlite_deployed_project
    env = setup_faber(project, tmp_path)
    seed_users(project, 1234)
    project.add_migration("20240102000000_drop_name", 'ALTER TABLE "User" DROP COLUMN "name";\n')
    before = snapshot(project)

    dry = run_faber(project.root, "migrate", "production", "--dry-run", env=env)
    assert dry.returncode == 0, dry.result
    findings = dry.details["plan"]["findings"]
    drop = [f for f in findings if f["kind"] == "drop_column"]
    assert drop, findings
    assert drop[0]["rows"] == 1234 and drop[0]["table"] == "User"
    plan_id = dry.details["plan"]["plan_id"]

    refused = run_faber(project.root, "migrate", "production", "--approve", plan_id, env=env)
    assert refused.returncode == 3, refused.result
    assert refused.codes == ["DESTRUCTIVE_CHANGE"]
    assert snapshot(project) == before

    done = run_faber(project.root, "migrate", "production", "--approve", plan_id, "--allow-destructive", env=env)
    assert done.returncode == 0, done.result
    assert done.details["applied"] == ["20240102000000_drop_name"]
    columns = [r["name"] for r in query(project, 'PRAGMA table_info("User")')]
    assert "name" not in columns
    assert query(project, 'SELECT count(*) AS n FROM "User"')[0]["n"] == 1234


# --- a migration that fails halfway --------------------------------------------------------------


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_failing_migration_is_restored_exactly(provider: str, environment: str, request: pytest.FixtureRequest,
                                               tmp_path: Path) -> None:
    project: PrismaProject = request.getfixturevalue(
        "sqlite_deployed_project" if provider == "sqlite" else "pg_deployed_project")
    env = setup_faber(project, tmp_path)
    seed_users(project, 40)
    project.add_migration("20240102000000_posts", ADD_POSTS)  # applies fine
    project.add_migration("20240103000000_tag", FAILING)  # fails at its second statement
    before = snapshot(project)
    history_before = history(project)

    args = ["migrate", environment]
    if environment == "production":
        dry = run_faber(project.root, "migrate", environment, "--dry-run", env=env)
        args += ["--approve", dry.details["plan"]["plan_id"]]
        assert dry.details["plan"]["destructive"] is True  # a unique index on existing rows
        args += ["--allow-destructive"]
    done = run_faber(project.root, *args, env=env)

    assert done.returncode == 1, done.result
    assert done.codes[0] == "MIGRATION_FAILED"
    assert done.details["failed_migration"] == "20240103000000_tag"
    assert done.details["restored"] is True and done.details["restore_verified"] is True
    assert done.details["backup"]["verified"] is True
    assert "restored" in done.result["message"]
    restore = next(s for s in done.details["steps"] if s["name"] == "automatic_restore")
    assert restore["status"] == "ok"
    assert_no_url(project, done.stdout, done.stderr)

    # exactly as before: schema, every row, the history table
    assert snapshot(project) == before
    assert history(project) == history_before
    assert "Post" not in before["data"]

    after = status(project, env, environment)
    assert after["pending"] == ["20240102000000_posts", "20240103000000_tag"]
    assert after["failed"] == []

    entry = audit_lines(project)[-1]
    assert entry["environment"] == environment and entry["status"] == "failure" and entry["restored"] is True
    assert entry["plan_id"] == done.details["plan"]["plan_id"]
    assert_no_url(project, (project.root / AUDIT).read_text("utf-8"))


def test_dev_failure_without_backup_explains_recovery(sqlite_deployed_project: PrismaProject,
                                                      tmp_path: Path) -> None:
    project = sqlite_deployed_project
    env = setup_faber(project, tmp_path)
    seed_users(project, 5)
    # statement 1 creates a table, statement 2 inserts a row that violates NOT NULL: no risky finding,
    # so dev's optional backup policy takes no backup
    project.add_migration("20240102000000_tag", 'CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY);\n'
                                                'INSERT INTO "User" ("email", "name") VALUES (NULL, \'x\');\n')

    done = run_faber(project.root, "migrate", "dev", env=env)

    assert done.returncode == 1, done.result
    assert done.codes[0] == "MIGRATION_FAILED"
    assert done.details["restored"] is False and done.details["backup"] is None
    assert done.details["failed_migration"] == "20240102000000_tag"
    assert any("prisma migrate resolve" in fix for fix in done.result["suggested_fixes"])
    assert next(s for s in done.details["steps"] if s["name"] == "automatic_restore")["status"] == "skipped"
    assert status(project, env, "dev")["failed"] == ["20240102000000_tag"]
    entry = audit_lines(project)[-1]
    assert entry["environment"] == "dev" and entry["status"] == "failure" and entry["plan_id"]


# --- timeouts --------------------------------------------------------------------------------------

# ~3 s of work in SQLite: a recursive CTE counted to 30 million
SQLITE_SLOW = (
    'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\n'
    'INSERT INTO "Slow" ("n") WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) '
    "SELECT count(*) FROM c;\n"
)
PG_SLOW = 'CREATE TABLE "Slow" ("n" INTEGER NOT NULL);\nSELECT pg_sleep(4);\n'


def prisma_processes(root: Path) -> list[int]:
    """Live processes working in the project folder (Prisma runs with cwd = the project root)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == root.resolve() and b"prisma" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_timeout_stops_prisma_and_restores(provider: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    project: PrismaProject = request.getfixturevalue(
        "sqlite_deployed_project" if provider == "sqlite" else "pg_deployed_project")
    env = setup_faber(project, tmp_path)
    seed_users(project, 10)
    project.add_migration("20240102000000_slow", SQLITE_SLOW if provider == "sqlite" else PG_SLOW)
    before = snapshot(project)
    history_before = history(project)

    done = run_faber(project.root, "migrate", "staging", "--timeout", "1", env=env)

    assert done.returncode == 1, done.result
    assert done.codes[0] in ("MIGRATION_FAILED", "PRISMA_TIMEOUT")
    text = json.dumps(done.result)
    assert "did not finish in 1 s" in text
    assert done.details["restored"] is True, json.dumps(done.result, indent=1)
    assert done.details["restored"] is True and done.details["restore_verified"] is True
    assert snapshot(project) == before
    assert history(project) == history_before
    assert prisma_processes(project.root) == []
    if provider == "postgresql":  # the killed Prisma's server sessions were ended, not left running
        assert project.database_url is not None
        assert pg_query(project.database_url, "SELECT count(*) AS n FROM pg_stat_activity WHERE "
                        "datname = current_database() AND pid <> pg_backend_pid()")[0]["n"] == 0
    assert status(project, env, "staging")["pending"] == ["20240102000000_slow"]
