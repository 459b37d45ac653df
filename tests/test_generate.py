"""`faber-db generate-migration` end to end: the real CLI, real Prisma (6.15 and 7.10.1: every test runs
on both), real SQLite and PostgreSQL.

What a user checks: the folder Prisma would have written, SQL that real `prisma migrate deploy`
applies, a down.sql that really returns the schema to where it was, names that cannot escape,
and a development database that generation never touches.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from faber import describe, error_code, run_faber, tree_snapshot
from harness import DEFAULT_MODELS, MIGRATION_LOCK_TEXT, PostgresServer, PrismaProject, pg_query, query

pytestmark = pytest.mark.prisma_majors

INIT = "20240101000000_init"
POSTS_MODELS = (DEFAULT_MODELS + """
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}
""").replace("  name  String?\n}", "  name  String?\n  posts Post[]\n}")
NO_NAME_MODELS = DEFAULT_MODELS.replace("  name  String?\n", "")
MIGRATION_DIR = re.compile(r"^(\d{14})_([a-z0-9_]{1,60})$")
DEPLOYED = [
    pytest.param("sqlite_deployed_project", id="sqlite"),
    pytest.param("pg_deployed_project", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture
def project(request: pytest.FixtureRequest, prisma_kit: object) -> PrismaProject:
    """The fixture project DEPLOYED names (on the test's Prisma kit)."""
    fixture: PrismaProject = request.getfixturevalue(request.param)
    return fixture


def setup_faber(project: PrismaProject) -> dict[str, str | None]:
    """`faber-db init` in the fixture project; returns the env for run_faber."""
    assert project.database_url is not None
    env: dict[str, str | None] = {"DEV_DATABASE_URL": project.database_url}
    code, result, stderr = run_faber(project.root, "init", env=env)
    assert code == 0, describe(result, stderr)
    return env


def generate(project: PrismaProject, env: dict[str, str | None], *args: str) -> tuple[int, dict[str, Any], str]:
    code, result, stderr = run_faber(project.root, "generate-migration", *args, env=env)
    assert result["operation"] == "generate-migration", describe(result, stderr)
    return code, result, stderr


def real_diff_script(project: PrismaProject, scratch: Path | None = None) -> str:
    """What real Prisma writes as the next migration.sql: the script of `migrate diff --from-migrations
    … --script` (the CLI prints it followed by one more newline than `migrate dev` writes to the file)."""
    url = f"file:{scratch}" if scratch is not None else project.database_url
    out = project.prisma("migrate", "diff", "--from-migrations", "prisma/migrations", project.to_schema,
                         project.schema_arg, "--script", database_url=url).stdout
    assert out.endswith(";\n\n"), repr(out[-20:])
    return out[:-1]


def catalog(project: PrismaProject) -> list[tuple[Any, ...]]:
    """The user-visible schema: tables, columns, indexes (not the history table's rows)."""
    if project.provider == "sqlite":
        rows = query(project, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                              "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        return [tuple(r.values()) for r in rows]
    assert project.database_url is not None
    columns = pg_query(project.database_url,
                       "SELECT table_name, column_name, data_type, is_nullable, column_default "
                       "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2")
    indexes = pg_query(project.database_url,
                       "SELECT tablename, indexname, indexdef FROM pg_indexes "
                       "WHERE schemaname = 'public' ORDER BY 1, 2")
    constraints = pg_query(project.database_url,
                           "SELECT conname, contype FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                           "WHERE n.nspname = 'public' ORDER BY 1")
    return [tuple(r.values()) for r in columns + indexes + constraints]


def dev_fingerprint(project: PrismaProject) -> Any:
    """SQLite: the file's mtime and bytes; PostgreSQL: its catalog, its history rows and its user rows."""
    if project.provider == "sqlite":
        assert project.database_path is not None
        path = project.database_path
        return path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()
    return (catalog(project), query(project, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name'),
            query(project, 'SELECT * FROM "User" ORDER BY id'))


def server_databases(server: PostgresServer | None, project: PrismaProject) -> set[str]:
    if server is None:
        return set()
    assert project.database_url is not None
    return {r["datname"] for r in pg_query(project.database_url, "SELECT datname FROM pg_database")}


def new_migrations(project: PrismaProject, before: list[str]) -> list[str]:
    return [n for n in project.migration_names() if n not in before]


# --- the round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_add_model_deploys_and_down_restores(project: PrismaProject, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("pg_server") if project.provider == "postgresql" else None
    env = setup_faber(project)
    catalog_before = catalog(project)
    project.write_schema(POSTS_MODELS)
    expected_sql = real_diff_script(project, project.root / "oracle.db" if server is None else None)
    (project.root / "oracle.db").unlink(missing_ok=True)
    dev_before, databases_before = dev_fingerprint(project), server_databases(server, project)
    lock_before = (project.migrations_dir / "migration_lock.toml").read_bytes()

    started = datetime.now(timezone.utc).replace(microsecond=0)
    code, result, stderr = generate(project, env, "add posts")
    assert code == 0, describe(result, stderr)
    assert result["status"] == "success", describe(result, stderr)
    details = result["details"]
    assert details["changes"] is True
    name = details["migration"]["name"]
    match = MIGRATION_DIR.match(name)
    assert match and match[2] == "add_posts", name
    stamp = datetime.strptime(match[1], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    assert started - timedelta(seconds=1) <= stamp <= datetime.now(timezone.utc) + timedelta(seconds=1), "UTC"
    folder = project.migrations_dir / name
    assert details["migration"]["path"] == f"prisma/migrations/{name}"
    assert sorted(p.name for p in folder.iterdir()) == ["down.sql", "migration.sql"]
    # exactly what real Prisma writes for this change, byte for byte (no warnings: nothing is dropped)
    assert (folder / "migration.sql").read_text() == expected_sql == details["migration"]["sql"]
    assert (folder / "down.sql").read_text() == details["migration"]["down_sql"]
    assert (project.migrations_dir / "migration_lock.toml").read_bytes() == lock_before
    assert any(c["kind"] == "CreateTable" and c["object"] == "Post" for c in details["change_list"])

    # generation never touches the development database, and leaves no shadow database behind
    assert dev_fingerprint(project) == dev_before
    assert server_databases(server, project) == databases_before

    # the real `prisma migrate deploy` applies it; history and schema then agree
    project.prisma("migrate", "deploy")
    assert [r["migration_name"] for r in query(
        project, 'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL '
                 "ORDER BY migration_name")] == [INIT, name]
    same = project.prisma("migrate", "diff", "--from-migrations", "prisma/migrations", project.to_schema,
                          project.schema_arg, "--exit-code", check=False)
    assert same.returncode == 0, same.stdout + same.stderr
    deployed = catalog(project)
    assert deployed != catalog_before and any("Post" in str(row) for row in deployed)

    # a second run right after: nothing to do, nothing written
    tree = tree_snapshot(project.root)
    code, result, stderr = generate(project, env, "add posts again")
    assert code == 0, describe(result, stderr)
    assert result["status"] == "success"
    assert result["details"]["changes"] is False
    assert result["details"]["migration"] is None
    assert tree_snapshot(project.root) == tree

    # down.sql, run by real Prisma, returns the database schema to the state before the migration
    project.execute_file(folder / "down.sql")
    assert catalog(project) == catalog_before
    assert server_databases(server, project) == databases_before


# --- preview, force, custom names -----------------------------------------------------------------


def test_preview_writes_nothing_then_custom_name_writes(sqlite_project: PrismaProject) -> None:
    env = setup_faber(sqlite_project)
    sqlite_project.write_schema(POSTS_MODELS)
    tree = tree_snapshot(sqlite_project.root)
    code, result, stderr = generate(sqlite_project, env, "add posts", "--preview", "--name", "My Custom Name")
    assert code == 0, describe(result, stderr)
    migration = result["details"]["migration"]
    assert result["details"]["changes"] is True and result["details"]["preview"] is True
    assert migration["path"] is None
    assert migration["name"].endswith("_my_custom_name")
    assert 'CREATE TABLE "Post"' in migration["sql"]
    assert 'DROP TABLE "Post"' in migration["down_sql"]
    assert tree_snapshot(sqlite_project.root) == tree, "a preview writes nothing"

    code, result, stderr = generate(sqlite_project, env, "add posts", "--name", "My Custom Name")
    assert code == 0, describe(result, stderr)
    [name] = new_migrations(sqlite_project, [INIT])
    assert MIGRATION_DIR.match(name) and name.endswith("_my_custom_name")
    assert (sqlite_project.migrations_dir / name / "migration.sql").read_text() == migration["sql"]
    assert (sqlite_project.migrations_dir / name / "down.sql").read_text() == migration["down_sql"]


def test_force_without_changes_writes_an_empty_migration(sqlite_project: PrismaProject) -> None:
    env = setup_faber(sqlite_project)
    code, result, stderr = generate(sqlite_project, env, "data fix", "--force")
    assert code == 0, describe(result, stderr)
    assert result["details"]["changes"] is False
    [name] = new_migrations(sqlite_project, [INIT])
    assert name.endswith("_data_fix") and result["details"]["migration"]["name"] == name
    assert (sqlite_project.migrations_dir / name / "migration.sql").read_text().strip() == (
        "-- This is an empty migration.")


def test_first_migration_and_missing_lock_file(sqlite_project: PrismaProject, sqlite_init_sql: str) -> None:
    """No history yet: the migration is Prisma's --from-empty SQL, and migration_lock.toml appears
    with exactly the text Prisma writes."""
    import shutil

    shutil.rmtree(sqlite_project.migrations_dir)
    env = setup_faber(sqlite_project)
    code, result, stderr = generate(sqlite_project, env, "init")
    assert code == 0, describe(result, stderr)
    [name] = sqlite_project.migration_names()
    assert name.endswith("_init")
    assert (sqlite_project.migrations_dir / name / "migration.sql").read_text() + "\n" == sqlite_init_sql
    lock = sqlite_project.migrations_dir / "migration_lock.toml"
    assert lock.read_text() == MIGRATION_LOCK_TEXT.format(provider="sqlite")


HOSTILE = [
    ("description", "../../etc/x", "etc_x"),
    ("description", "a;rm -rf /", "a_rm_rf"),
    ("name", "$(touch /tmp/pwned)", "touch_tmp_pwned"),
    ("name", "`id` && echo 'x' > ../../../owned.txt", "id_echo_x_owned_txt"),
    ("name", "Ä" * 200 + "x" * 300, "a" * 60),
]


def test_hostile_names_are_slugged_never_used_raw(sqlite_project: PrismaProject) -> None:
    """Each name, as the description or as --name: one new folder in prisma/migrations with a slugged
    name, and not one other byte changed anywhere around the project. (One at a time, each folder
    removed after its check: an empty migration in the history is what the next run would replay.)"""
    import shutil

    env = setup_faber(sqlite_project)
    pwned = Path("/tmp/pwned")
    pwned_before = pwned.exists()
    rel = sqlite_project.root.name + "/prisma/migrations/"
    for where, text, slug in HOSTILE:
        argv = (text, "--force") if where == "description" else ("change", "--name", text, "--force")
        before = tree_snapshot(sqlite_project.root.parent)
        code, result, stderr = generate(sqlite_project, env, *argv)
        assert code == 0, describe(result, stderr)
        [name] = new_migrations(sqlite_project, [INIT])
        match = MIGRATION_DIR.match(name)
        assert match and match[2] == slug, name
        changed = {k for k, v in tree_snapshot(sqlite_project.root.parent).items() if before.get(k) != v}
        assert changed == {rel + name, rel + name + "/migration.sql", rel + name + "/down.sql"}, changed
        shutil.rmtree(sqlite_project.migrations_dir / name)
    assert not (sqlite_project.root.parent / "owned.txt").exists()
    assert pwned.exists() == pwned_before, "a name ran a shell command"


@pytest.mark.parametrize("args", [("😀",), ("add", "--name", "😀"), ("---",)], ids=["emoji", "emoji-name", "dashes"])
def test_name_empty_after_slugging_is_refused(sqlite_project: PrismaProject, args: tuple[str, ...]) -> None:
    env = setup_faber(sqlite_project)
    sqlite_project.write_schema(POSTS_MODELS)
    tree = tree_snapshot(sqlite_project.root)
    argv = ("--", *args) if args[0].startswith("-") else args
    code, result, stderr = generate(sqlite_project, env, *argv)
    assert code == 2, describe(result, stderr)
    assert error_code(result) == "INVALID_NAME"
    assert tree_snapshot(sqlite_project.root) == tree


def test_schema_syntax_error_names_the_line(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    env = setup_faber(project)
    # A typo in a type. (A grammar-level error such as `name String??` cannot be tested here: Prisma
    # 6.15 then cannot read the generator block and tries to download its query engine, which these
    # offline machines cannot; with the native engines installed it reports P1012 like this one.)
    text = project.schema_path.read_text().replace("  name  String?\n", "  name  String?\n  nick Strin\n")
    project.schema_path.write_text(text)
    line = text.splitlines().index("  nick Strin") + 1
    tree = tree_snapshot(project.root)
    code, result, stderr = generate(project, env, "broken")
    assert code == 2, describe(result, stderr)
    assert result["status"] == "failure"
    assert error_code(result) == "SCHEMA_INVALID"
    assert f"line {line}" in result["message"] + result["errors"][0]["message"], describe(result, stderr)
    assert tree_snapshot(project.root) == tree, "nothing written (the dev database included)"


def test_grammar_error_is_never_reported_as_a_database_problem(sqlite_deployed_project: PrismaProject) -> None:
    """`String??` breaks the grammar. Prisma 6.15 in driver-adapter mode then cannot read the generator
    block, assumes it needs its native query engine and tries to download it: on these offline machines
    that fails (PRISMA_ENGINE_UNAVAILABLE, whose hint sends the user to the schema first); where the
    download works Prisma reports P1012 with the line. Either way: not DATABASE_UNREACHABLE, nothing
    written. (The native engine's P1012 for this schema is in tests/test_generate_prisma7.py.)"""
    project = sqlite_deployed_project
    env = setup_faber(project)
    text = project.schema_path.read_text().replace("  name  String?\n", "  name  String??\n")
    project.schema_path.write_text(text)
    tree = tree_snapshot(project.root)
    code, result, stderr = generate(project, env, "broken")
    assert result["status"] == "failure", describe(result, stderr)
    if error_code(result) == "SCHEMA_INVALID":
        assert code == 2 and "line" in result["message"], describe(result, stderr)
    else:
        assert error_code(result) == "PRISMA_ENGINE_UNAVAILABLE", describe(result, stderr)
        assert code == 1 and "syntax error" in result["errors"][0]["hint"], describe(result, stderr)
    assert tree_snapshot(project.root) == tree, "nothing written"


# --- data loss ------------------------------------------------------------------------------------


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_dropping_a_column_with_data(project: PrismaProject) -> None:
    env = setup_faber(project)
    query_params = ("ada@example.com", "Ada")
    if project.provider == "sqlite":
        import sqlite3
        from contextlib import closing

        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn:
            conn.execute('INSERT INTO "User" (email, name) VALUES (?, ?)', query_params)
            conn.commit()
    else:
        import psycopg

        assert project.database_url is not None
        with psycopg.connect(project.database_url, autocommit=True) as conn:
            conn.execute('INSERT INTO "User" (email, name) VALUES (%s, %s)', query_params)
    project.write_schema(NO_NAME_MODELS)
    expected_sql = real_diff_script(project, project.root / "oracle.db" if project.provider == "sqlite" else None)
    dev_before = dev_fingerprint(project)

    code, result, stderr = generate(project, env, "drop user name")
    assert code == 0, describe(result, stderr)
    assert result["status"] == "warning", describe(result, stderr)
    details = result["details"]
    drops = [f for f in details["findings"] if f["kind"] == "drop_column"]
    assert drops and drops[0]["table"] == "User" and drops[0]["severity"] in ("high", "critical"), describe(result)
    assert any("name" in w for w in result["warnings"])
    folder = project.migrations_dir / details["migration"]["name"]
    written = (folder / "migration.sql").read_text()
    header = ("/*\n  Warnings:\n\n"
              "  - You are about to drop the column `name` on the `User` table."
              " All the data in the column will be lost."
              "\n\n*/\n")
    assert written == header + expected_sql, "Prisma's warnings comment on top of Prisma's statements"
    loss = " ".join(details["migration"]["down_data_loss"])
    assert "name" in loss and "cannot" in loss, details["migration"]
    assert dev_fingerprint(project) == dev_before, "the column and its value are still in the dev database"
    assert query(project, 'SELECT name FROM "User"') == [{"name": "Ada"}]


# --- PostgreSQL: shadow databases --------------------------------------------------------------------


@pytest.mark.postgres
def test_no_shadow_database_left_when_the_diff_fails(pg_deployed_project: PrismaProject,
                                                     pg_server: PostgresServer) -> None:
    project = pg_deployed_project
    env = setup_faber(project)
    before, dev_before = server_databases(pg_server, project), dev_fingerprint(project)

    # a history that cannot be replayed (the shadow database rejects it)
    project.add_migration("20240102000000_broken", "ALTER TABLE \"Nope\" ADD COLUMN \"x\" TEXT;\n")
    project.write_schema(POSTS_MODELS)
    tree = tree_snapshot(project.root)
    code, result, stderr = generate(project, env, "add posts")
    assert code != 0, describe(result, stderr)
    assert result["status"] == "failure"
    assert tree_snapshot(project.root) == tree
    assert server_databases(pg_server, project) == before
    assert dev_fingerprint(project) == dev_before

    # a schema Prisma cannot parse
    (project.migrations_dir / "20240102000000_broken" / "migration.sql").unlink()
    (project.migrations_dir / "20240102000000_broken").rmdir()
    project.schema_path.write_text(project.schema_path.read_text().replace("  name  String?\n", "  1name String\n"))
    code, result, stderr = generate(project, env, "add posts")
    assert code == 2 and error_code(result) == "SCHEMA_INVALID", describe(result, stderr)
    assert server_databases(pg_server, project) == before
    assert dev_fingerprint(project) == dev_before
