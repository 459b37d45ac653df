"""Destructive-change detection against real databases holding rows (faber_db.safety).

The live corpus cases (tests/safety_corpus/expected.toml, those with a `seed`) run on a real
PostgreSQL database owned by a role that is not a superuser (the usual production owner) and on a
real SQLite file, both built from the case's history plus its seed rows. What a user checks: the
live count of the rows each statement's own WHERE matches, and that the database itself agrees
(the statement run for real, then rolled back, changes exactly that many rows).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from faber import run_faber
from faber_db.config import SafetyConfig
from faber_db.engines import PostgresDatabase, SqliteDatabase, parse_postgres_url
from faber_db.results import Finding
from faber_db.safety import analyze_migrations, analyze_sql, count_rows, evaluate
from faber_db.safety.model import CountError
from faber_db.safety.rows import postgres_count, sqlite_count
from harness import DEFAULT_MODELS, PostgresServer, PrismaProject, unique_db_name
from psycopg import sql
from test_safety import CORPUS, EXPECTED, corpus_history

OWNER, OWNER_PASSWORD = "faber_app_owner", "app-owner-PW-3c"
LIVE = sorted(name for name, spec in EXPECTED.items() if spec.get("seed"))
PG_LIVE = [n for n in LIVE if EXPECTED[n]["provider"] == "postgresql"]
SQLITE_LIVE = [n for n in LIVE if EXPECTED[n]["provider"] == "sqlite"]
UPPER_BOUND = -1  # expected.toml: the count is the table's total, an upper bound


@pytest.fixture(scope="module")
def owner(pg_server: PostgresServer) -> str:
    """A login role that is not a superuser; the live databases belong to it."""
    with pg_server.admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [OWNER]).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER PASSWORD {}").format(
                sql.Identifier(OWNER), sql.Literal(OWNER_PASSWORD)))
    return OWNER


@pytest.fixture
def pg_database(pg_server: PostgresServer, owner: str) -> Iterator[str]:
    """An empty database owned by the non-superuser role; its URL (as that role)."""
    name = pg_server.create_database(unique_db_name("safety"), owner=owner)
    try:
        yield pg_server.url(name, user=owner, password=OWNER_PASSWORD)
    finally:
        pg_server.drop_database(name)


def _build_pg(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for _, text in corpus_history(name):
            conn.execute(text.encode())
        conn.execute((CORPUS / "seed" / EXPECTED[name]["seed"]).read_bytes())


def _build_sqlite(path: Path, name: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for _, text in corpus_history(name):
            conn.executescript(text)
        conn.executescript((CORPUS / "seed" / EXPECTED[name]["seed"]).read_text())
        conn.commit()


def _counted(name: str, db: Any) -> list[Finding]:
    findings = analyze_sql((CORPUS / name).read_text(), EXPECTED[name]["provider"], migration=name,
                           history=corpus_history(name))
    count_rows(findings, db)
    return findings


def _assert_rows(name: str, findings: list[Finding], total: Any) -> None:
    expected = EXPECTED[name]["findings"]
    assert [(f.kind, f.line) for f in findings] == [(e["kind"], e["line"]) for e in expected], name
    for finding, spec in zip(findings, expected, strict=True):
        want = spec.get("rows")
        if want == UPPER_BOUND:
            assert finding.table is not None
            assert finding.rows == total(finding), (name, finding)
            assert "rows is the table's total, an upper bound" in finding.message, finding.message
        else:
            assert finding.rows == want, (name, finding.line, finding.rows, finding.message)
            assert "not counted" not in finding.message, finding.message


def _statements_to_check(findings: list[Finding], name: str) -> list[Finding]:
    """Findings whose statement the database can run alone: its count must equal what it changes.
    (A SQLite rebuild's copy goes into a table the migration creates first: not runnable alone.)"""
    exact = [f for f, spec in zip(findings, EXPECTED[name]["findings"], strict=True)
             if f.kind in ("delete_where", "update_where") and spec.get("rows", UPPER_BOUND) >= 0]
    return [f for f in exact if f.statement.upper().startswith(("DELETE", "UPDATE", "WITH"))]


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG_LIVE)
def test_postgres_live_counts_match_the_database(name: str, pg_database: str) -> None:
    _build_pg(pg_database, name)
    with PostgresDatabase(parse_postgres_url(pg_database)) as db:
        findings = _counted(name, db)

        def total(finding: Finding) -> int:
            schema = "audit" if finding.table in ("Log", "LogArchive") else "public"
            return int(db.query(f'SELECT count(*) FROM "{schema}"."{finding.table}"')[0][0])

        _assert_rows(name, findings, total)
    with psycopg.connect(pg_database) as conn:
        for finding in _statements_to_check(findings, name):
            with conn.cursor() as cursor:
                cursor.execute(finding.statement.encode())
                changed = cursor.rowcount
            conn.rollback()
            assert changed == finding.rows, (finding.line, finding.statement)


@pytest.mark.parametrize("name", SQLITE_LIVE)
def test_sqlite_live_counts_match_the_database(name: str, tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    _build_sqlite(path, name)
    db = SqliteDatabase(path)
    try:
        findings = _counted(name, db)
        _assert_rows(name, findings, lambda f: int(db.query(f'SELECT count(*) FROM "{f.table}"')[0][0]))
        assert db.query("PRAGMA query_only") == [(0,)], "the count left the connection read-only"
    finally:
        db.close()
    # explicit transactions: Python's implicit ones do not cover a statement that starts with WITH
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for finding in _statements_to_check(findings, name):
            conn.execute("BEGIN")
            before = conn.total_changes  # (rowcount is -1 for a statement that starts with WITH)
            conn.execute(finding.statement)
            changed = conn.total_changes - before
            conn.execute("ROLLBACK")
            assert changed == finding.rows, (finding.line, finding.statement)
    # a rebuild's filtered copy: the migration run for real loses exactly the rows counted
    copies = [f for f in findings if f.kind == "delete_where" and f.message.startswith("Redefining")]
    if copies:
        with closing(sqlite3.connect(path)) as conn:
            before = {f.table: conn.execute(f'SELECT count(*) FROM "{f.table}"').fetchone()[0] for f in copies}
            conn.executescript((CORPUS / name).read_text())
            for finding in copies:
                after = conn.execute(f'SELECT count(*) FROM "{finding.table}"').fetchone()[0]
                assert before[finding.table] - after == finding.rows, finding


# --- fresh databases -----------------------------------------------------------------------------

FRESH_PLAN = [
    ("20240101000000_init", 'CREATE TABLE "A" ("id" INTEGER PRIMARY KEY, "x" TEXT);\n'
                            'CREATE TABLE "B" ("id" INTEGER PRIMARY KEY);\n'
                            'CREATE TABLE "C" ("id" INTEGER PRIMARY KEY);\n'),
    ("20240102000000_cleanup", 'DELETE FROM "A" WHERE "x" IS NOT NULL;\n'
                               'DROP TABLE "A";\nDROP TABLE "B";\nDROP TABLE "C";\n'),
]


@pytest.mark.parametrize("provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_fresh_database_same_severity_no_rows(provider: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A whole history planned for an empty database: the drops are what they are (high, enhanced
    approval) on both databases, and the counts say no row exists there to lose."""
    findings = analyze_migrations(FRESH_PLAN, provider)
    if provider == "postgresql":
        db: Any = PostgresDatabase(parse_postgres_url(request.getfixturevalue("pg_database")))
    else:
        db = SqliteDatabase(tmp_path / "fresh.db", create=True)
    with db:
        count_rows(findings, db)
    assert [(f.kind, f.severity, f.table, f.line, f.rows) for f in findings] == [
        ("delete_where", "medium", "A", 1, None), ("drop_table", "high", "A", 2, None),
        ("drop_table", "high", "B", 3, None), ("drop_table", "high", "C", 4, None)]
    for finding in findings:
        assert "created by 20240101000000_init, earlier in this plan" in finding.message
        assert f'"{finding.table}" does not exist in this database yet: no rows to lose here' in finding.message
    decision = evaluate(findings, SafetyConfig().destructive)
    assert decision.destructive and decision.approval_level == "enhanced"


# --- what a count may run ------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_count_never_runs_a_function_with_side_effects(pg_database: str) -> None:
    """The WHERE comes from a migration nobody approved yet: a user function or a volatile built-in
    in it is not run at preview time (the count falls back to the table's rows)."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute('CREATE TABLE "T" ("id" integer);\nINSERT INTO "T" SELECT generate_series(1, 7);\n'
                     "CREATE FUNCTION mark() RETURNS boolean LANGUAGE sql AS "
                     "$$ SELECT set_config('faber.marked', 'yes', false) = 'yes' $$;")
    findings = analyze_sql('DELETE FROM "T" WHERE mark();\nDELETE FROM "T" WHERE pg_sleep(5) IS NULL;\n'
                           'DELETE FROM "T" WHERE public.mark();\nDELETE FROM "T" WHERE "id" > 5;\n', "postgresql")
    with PostgresDatabase(parse_postgres_url(pg_database)) as db:
        count_rows(findings, db)
        assert db.query("SELECT coalesce(current_setting('faber.marked', true), '')") == [("",)]
    assert [f.rows for f in findings] == [7, 7, 7, 2]
    assert "it calls mark(), which faber-db does not run before approval" in findings[0].message
    assert "it calls pg_sleep()" in findings[1].message
    assert "it calls public.mark()" in findings[2].message


@pytest.mark.postgres
def test_postgres_count_is_read_only_and_leaves_a_callers_transaction_alone(pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute('CREATE TABLE "T" ("id" integer);\nINSERT INTO "T" SELECT generate_series(1, 3);')
    with PostgresDatabase(parse_postgres_url(pg_database)) as db:
        with pytest.raises(CountError, match="read-only transaction"):
            postgres_count(db, 'WITH d AS (DELETE FROM "T" RETURNING 1) SELECT count(*) FROM d', 5.0)
        assert db.query('SELECT count(*) FROM "T"') == [(3,)]
        db.execute("BEGIN")
        db.execute('INSERT INTO "T" VALUES (4)')
        with pytest.raises(CountError, match="inside a transaction"):
            postgres_count(db, 'SELECT count(*) FROM "T"', 5.0)
        assert db.query('SELECT count(*) FROM "T"') == [(4,)], "the caller's transaction is still open"
        db.execute("ROLLBACK")
        assert db.query('SELECT count(*) FROM "T"') == [(3,)]


@pytest.mark.postgres
def test_postgres_count_timeout_falls_back_to_the_table_rows(pg_database: str) -> None:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute('CREATE TABLE "T" ("id" integer);\nINSERT INTO "T" SELECT generate_series(1, 12);')
    (finding,) = analyze_sql('DELETE FROM "T" WHERE "id" IN (SELECT count(*) FROM generate_series(1, 100000000000));',
                             "postgresql")
    with PostgresDatabase(parse_postgres_url(pg_database)) as db:
        count_rows([finding], db, timeout_seconds=0.2)
    assert finding.rows == 12
    assert "counting took longer than 0.2 s; rows is the table's total, an upper bound" in finding.message


def test_sqlite_count_is_read_only_and_stops_at_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript('CREATE TABLE "T" ("id" INTEGER);\n'
                           'WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 12) '
                           'INSERT INTO "T" SELECT n FROM g;')
    endless = ('DELETE FROM "T" WHERE "id" IN (WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g) '
               'SELECT count(*) FROM g);')
    (finding,) = analyze_sql(endless, "sqlite")
    with SqliteDatabase(path) as db:
        count_rows([finding], db, timeout_seconds=0.2)
        assert finding.rows == 12 and "counting took longer than 0.2 s" in finding.message
        with pytest.raises(CountError, match="readonly"):
            sqlite_count(db, 'DELETE FROM "T" RETURNING 1', 5.0)
        assert db.query('SELECT count(*) FROM "T"') == [(12,)]
        assert db.query("PRAGMA query_only") == [(0,)]


def test_count_rows_budget_is_shared_by_all_counts(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript('CREATE TABLE "T" ("id" INTEGER);\nINSERT INTO "T" VALUES (1), (2);')
    findings = analyze_sql('DELETE FROM "T" WHERE "id" = 1;\nDELETE FROM "T" WHERE "id" = 2;\n', "sqlite")
    with SqliteDatabase(path) as db:
        count_rows(findings, db, budget_seconds=0.0)
    assert [f.rows for f in findings] == [None, None]
    assert all("spends on counting rows were used up" in f.message for f in findings)


def test_a_missing_table_is_a_count_error_that_says_so(tmp_path: Path) -> None:
    # the file is not created: SqliteDatabase reads an empty in-memory stand-in
    with SqliteDatabase(tmp_path / "missing.db") as db, pytest.raises(CountError) as caught:
        sqlite_count(db, 'SELECT count(*) FROM "Nowhere"', 5.0)
    assert caught.value.missing and "no such table" in caught.value.reason


# --- lines: generate-migration and the dry run agree with the written file -------------------------

SLIM_MODELS = DEFAULT_MODELS.replace("  name  String?\n", "") + """
model Tag {
  id   Int    @id @default(autoincrement())
  name String @unique
}
"""


@pytest.mark.parametrize("fixture", ["sqlite_deployed_project",
                                     pytest.param("pg_deployed_project", marks=pytest.mark.postgres)])
def test_generate_and_dry_run_report_the_line_of_the_written_file(fixture: str, request: pytest.FixtureRequest,
                                                                   tmp_path: Path) -> None:
    """generate-migration writes Prisma's warning comment above the SQL: its findings still point
    at the line of migration.sql the statement is on, the line the dry run reports too."""
    project: PrismaProject = request.getfixturevalue(fixture)
    assert project.database_url is not None
    env: dict[str, str | None] = {"DEV_DATABASE_URL": project.database_url,
                                  "CLAUDE_PLUGIN_DATA": str(tmp_path / "plugin-data")}
    assert run_faber(project.root, "init", env=env).returncode == 0
    project.write_schema(SLIM_MODELS)
    generated = run_faber(project.root, "generate-migration", "slim users", env=env)
    assert generated.returncode == 0, generated.stdout
    migration = generated.json["details"]["migration"]
    written = (project.root / migration["path"] / "migration.sql").read_text().splitlines()
    assert written[1].strip() == "Warnings:", "the header shifts every statement down"
    reported = [(f["kind"], f["line"], f["statement"]) for f in generated.json["details"]["findings"]
                if f["kind"] != "lock_risk"]
    assert any(kind == "drop_column" or kind == "table_rebuild" for kind, _, _ in reported), reported
    for kind, line, statement in reported:
        assert written[line - 1].strip().startswith(statement.splitlines()[0].strip()), (kind, line, written)
    dry = run_faber(project.root, "migrate", "dev", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stdout
    planned = [(f["kind"], f["line"], f["statement"]) for f in dry.json["details"]["plan"]["findings"]
               if f["kind"] != "lock_risk" and f["migration"] == migration["name"]]
    assert planned == reported
