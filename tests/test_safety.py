"""Destructive-change analysis and PostgreSQL lock lint (faber_db.safety).

The corpus table (tests/safety_corpus/expected.toml) is the acceptance test: no destructive
statement is ever classified safe, and safe files produce nothing that needs approval.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from faber_db.config import SafetyConfig
from faber_db.engines import SqliteDatabase
from faber_db.results import Finding
from faber_db.safety import (
    DESTRUCTIVE_KINDS,
    UNPARSED,
    analyze_migrations,
    analyze_sql,
    count_rows,
    evaluate,
    is_destructive,
    lint_locks,
    squawk_path,
)
from faber_db.safety.model import CountedFinding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CORPUS = Path(__file__).parent / "safety_corpus"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text())["files"]
REPORTED_KINDS = {*DESTRUCTIVE_KINDS, UNPARSED, "table_rebuild"}
HAS_SQUAWK = squawk_path() is not None


def no_squawk() -> None:
    """squawk-cli is a dependency: missing it fails under CI (a skipped lint test proves nothing)."""
    msg = "squawk is not installed (pip install squawk-cli)"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(msg + " -- CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(msg)
DEFAULT_RULES = SafetyConfig().destructive


def corpus_history(name: str) -> list[tuple[str, str]]:
    """The corpus files a case replays first, each named after its file (as a history names them)."""
    return [(h.removesuffix(".sql"), (CORPUS / h).read_text()) for h in EXPECTED[name].get("history", [])]


def _analyze_corpus(name: str) -> list[Finding]:
    spec = EXPECTED[name]
    return analyze_sql((CORPUS / name).read_text(), spec["provider"], migration=name, history=corpus_history(name))


# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_is_complete() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.sql"))
    assert len(files) >= 30
    assert sorted(EXPECTED) == files, "every corpus file has a row in expected.toml and vice versa"
    providers = {spec["provider"] for spec in EXPECTED.values()}
    assert providers == {"postgresql", "sqlite"}
    for name, spec in EXPECTED.items():
        assert spec.get("safe", False) != bool(spec.get("kinds")), f"{name}: either safe or kinds"
        assert set(spec.get("kinds", [])) <= {*DESTRUCTIVE_KINDS, "unparsed"}, name
        assert {f["kind"] for f in spec.get("findings", [])} <= REPORTED_KINDS, name
        assert all(h in EXPECTED for h in spec.get("history", [])), name
        assert not spec.get("seed") or (CORPUS / "seed" / spec["seed"]).is_file(), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_classification(name: str) -> None:
    spec = EXPECTED[name]
    findings = _analyze_corpus(name)
    destructive = {f.kind for f in findings if is_destructive(f)}
    if spec.get("safe"):
        assert not destructive, f"{name} is safe but got {[(f.kind, f.severity, f.line) for f in findings]}"
    else:
        missing = set(spec["kinds"]) - destructive
        assert not missing, f"{name}: {sorted(missing)} not reported (false safe); got {findings}"
    assert not set(spec.get("absent", [])) & {f.kind for f in findings}, name
    if "findings" in spec:  # the whole report: kinds, lines of the file, severities
        expected = [(f["kind"], f["line"], f["severity"]) for f in spec["findings"]]
        assert [(f.kind, f.line, f.severity) for f in findings] == expected, [(f.kind, f.line, f.severity, f.message)
                                                                           for f in findings]
    for finding in findings:
        assert finding.migration == name
        assert finding.line >= 1
        assert finding.statement and len(finding.statement) <= 500
        assert finding.rows is None


def test_no_destructive_corpus_file_is_classified_safe() -> None:
    false_safe = [
        name
        for name, spec in EXPECTED.items()
        if spec.get("kinds") and not evaluate(_analyze_corpus(name), DEFAULT_RULES).destructive
    ]
    assert false_safe == []


@pytest.mark.parametrize("use_squawk", [True, False], ids=["squawk", "fallback"])
@pytest.mark.parametrize("name", sorted(n for n, s in EXPECTED.items() if s.get("lint") or s.get("no_lint")))
def test_corpus_lint(name: str, use_squawk: bool) -> None:
    if use_squawk and not HAS_SQUAWK:
        no_squawk()
    spec = EXPECTED[name]
    findings = lint_locks((CORPUS / name).read_text(), migration=name, use_squawk=use_squawk)
    rules = {f.rule for f in findings}
    assert set(spec.get("lint", [])) <= rules, f"{name}: {rules}"
    assert not set(spec.get("no_lint", [])) & rules, f"{name}: {rules}"
    assert all(f.kind == "lock_risk" and f.severity in ("low", "medium") for f in findings)


# --- statements, lines, tables -------------------------------------------------------------------


PG_MIXED = """-- a comment; with a semicolon
/* Warnings:
   - You are about to drop the column `bio` on the `User` table. All the data in the column will be lost.
*/
ALTER TABLE "User" DROP COLUMN "bio";

CREATE TABLE "Tag" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "Tag_name_key" ON "Tag"("name");
CREATE UNIQUE INDEX "User_email_key"
    ON "User"("email");
ALTER TABLE "Post" RENAME COLUMN "body" TO "content";
DELETE FROM "Session" WHERE "expired";
DROP TABLE "public"."Legacy";
"""


def test_postgres_lines_tables_and_statements() -> None:
    findings = analyze_sql(PG_MIXED, "postgresql", migration="20240101_x")
    got = [(f.line, f.kind, f.severity, f.table, f.column) for f in findings]
    assert got == [
        (5, "drop_column", "high", "User", "bio"),
        (9, "add_unique", "medium", "User", "email"),
        (11, "rename", "medium", "Post", "body"),
        (12, "delete_where", "medium", "Session", None),
        (13, "drop_table", "high", "Legacy", None),
    ]
    assert findings[0].statement == 'ALTER TABLE "User" DROP COLUMN "bio"'
    assert findings[1].statement.startswith('CREATE UNIQUE INDEX "User_email_key"')
    assert all(f.migration == "20240101_x" for f in findings)


def test_sqlite_lines_tables_and_statements() -> None:
    sql = (
        "-- cleanup; with semicolon\n"
        'DELETE FROM "Session";\n'
        "\n"
        'UPDATE "User" SET "name" = \'a;b\';\n'
        'ALTER TABLE "Post" DROP COLUMN "content";\n'
    )
    findings = analyze_sql(sql, "sqlite")
    assert [(f.line, f.kind, f.table, f.column) for f in findings] == [
        (2, "delete_without_where", "Session", None),
        (4, "update_without_where", "User", "name"),
        (5, "drop_column", "Post", "content"),
    ]
    assert findings[1].statement == "UPDATE \"User\" SET \"name\" = 'a;b'"


def test_statement_text_is_clipped() -> None:
    columns = ", ".join(f'"c{i}"' for i in range(200))
    sql = f'ALTER TABLE "Wide" DROP COLUMN "x";\nUPDATE "Wide" SET "x" = concat({columns});\n'
    findings = analyze_sql(sql, "postgresql")
    assert [f.kind for f in findings] == ["drop_column", "update_without_where"]
    assert len(findings[1].statement) <= 500


@pytest.mark.parametrize("provider", ["postgresql", "sqlite"])
def test_unparseable_is_never_silently_safe(provider: str) -> None:
    sql = 'ALTER TABLE "A" ADD COLUMN "b" TEXT;\nthis is not sql;\nDROP TABLE "C";\n'
    findings = analyze_sql(sql, provider)
    assert [(f.line, f.kind, f.severity) for f in findings] == [
        (2, "unparsed", "medium"),
        (3, "drop_table", "high"),
    ]
    unterminated = analyze_sql("DROP TABLE \"A\";\nSELECT 'oops;\n", provider)
    assert unterminated and all(f.kind == "unparsed" for f in unterminated)


def test_do_block_dynamic_sql_is_reported() -> None:
    sql = "DO $$\nBEGIN\n  EXECUTE 'DROP TABLE ' || quote_ident('x');\nEND $$;\n"
    findings = analyze_sql(sql, "postgresql")
    assert [(f.kind, f.line) for f in findings] == [("unparsed", 3)]


@pytest.mark.parametrize("opening", ["DO $$", "DO\n\n$$", "DO LANGUAGE plpgsql $body$", "DO\n  $x$"])
def test_do_block_statements_are_reported_on_their_own_lines(opening: str) -> None:
    closing = opening.split()[-1].strip()
    body = ("\nDECLARE n int;\nBEGIN\n  -- DELETE FROM \"Nope\";\n  RAISE NOTICE 'DROP TABLE x; %', 1;\n"
            "  DELETE FROM \"Session\" WHERE \"expired\";\n  DROP TABLE \"Legacy\";\n")
    sql = f"SELECT 1;\n{opening}{body}END {closing};\n"
    lines = sql.splitlines()
    findings = analyze_sql(sql, "postgresql")
    assert [(f.kind, lines[f.line - 1].strip()) for f in findings] == [
        ("delete_where", 'DELETE FROM "Session" WHERE "expired";'), ("drop_table", 'DROP TABLE "Legacy";')]
    assert all("(inside a DO block)" in f.message for f in findings)


def test_a_statement_in_a_loop_is_counted_as_an_upper_bound() -> None:
    """One pass's matching rows are not what a loop deletes; the loop's own query runs once."""
    sql = ("DO $$ DECLARE r record; BEGIN\n"
           "  FOR r IN DELETE FROM \"Job\" WHERE \"done\" RETURNING \"id\" LOOP\n"
           "    UPDATE \"Log\" SET \"job\" = NULL WHERE \"job\" = r.\"id\";\n"
           "  END LOOP;\nEND $$;\n")
    loop, once = {}, {}
    for finding in analyze_sql(sql, "postgresql"):
        assert isinstance(finding, CountedFinding)
        (loop if finding.count.why_not else once)[finding.kind] = finding
    assert set(once) == {"delete_where"} and once["delete_where"].line == 2
    assert set(loop) == {"update_where"} and loop["update_where"].line == 3
    assert "runs in a loop" in str(loop["update_where"].count.why_not)


def test_prismas_enum_swap_is_a_type_change_not_a_rename_and_a_drop() -> None:
    history = ['CREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\', \'MODERATOR\');\n'
               'CREATE TABLE "User" ("id" SERIAL, "role" "Role" NOT NULL DEFAULT \'USER\');']
    findings = analyze_sql((CORPUS / "pg_12_enum_remove_value.sql").read_text(), "postgresql", history=history)
    assert [(f.kind, f.severity) for f in findings] == [
        ("alter_column_type", "medium"), ("rename", "low"), ("rename", "low"), ("drop_type", "low")]
    assert 'gives the name "Role" to a new type' in findings[1].message
    assert 'replaced: "Role" is now a new type' in findings[3].message


def test_merge_and_data_modifying_ctes_are_found() -> None:
    sql = ('MERGE INTO "User" u USING "Import" i ON u.id = i.id\n'
           '  WHEN MATCHED AND i.gone THEN DELETE WHEN MATCHED THEN UPDATE SET name = i.name;\n'
           'WITH d AS (DELETE FROM "Session" WHERE "expired" RETURNING *) SELECT count(*) FROM d;\n'
           'WITH u AS (UPDATE "User" SET "name" = NULL WHERE "id" < 5 RETURNING 1) SELECT 1;\n')
    findings = analyze_sql(sql, "postgresql")
    assert [(f.kind, f.line, f.table) for f in findings] == [
        ("delete_where", 1, "User"), ("update_where", 1, "User"), ("delete_where", 3, "Session"),
        ("update_where", 4, "User")]
    assert 'in the WITH clause, as "d"' in findings[2].message


def test_a_function_that_calls_itself_is_read_once() -> None:
    sql = ('CREATE FUNCTION again() RETURNS void LANGUAGE plpgsql AS $$\n'
           'BEGIN DELETE FROM "Log" WHERE "old"; PERFORM again(); END $$;\nSELECT again();\n')
    findings = analyze_sql(sql, "postgresql")
    assert [(f.kind, f.line) for f in findings] == [("delete_where", 3)]
    assert "inside again(), which this statement calls" in findings[0].message


def test_sqlite_trigger_redefinition_is_low() -> None:
    sql = ('DROP TRIGGER IF EXISTS "t";\n'
           'CREATE TRIGGER IF NOT EXISTS "t" AFTER DELETE ON "User" BEGIN DELETE FROM "Post"; END;\n'
           'DROP TRIGGER "u";\n')
    findings = analyze_sql(sql, "sqlite")
    assert [(f.kind, f.severity) for f in findings] == [("drop_trigger", "low"), ("drop_trigger", "medium")]


def test_type_changes_widening_is_low_narrowing_is_medium() -> None:
    history = ['CREATE TABLE "T" ("a" VARCHAR(10), "b" INTEGER, "c" BIGINT, "d" TEXT, "e" DECIMAL(10,2));']
    sql = (
        'ALTER TABLE "T" ALTER COLUMN "a" SET DATA TYPE VARCHAR(20);\n'
        'ALTER TABLE "T" ALTER COLUMN "b" SET DATA TYPE BIGINT;\n'
        'ALTER TABLE "T" ALTER COLUMN "c" SET DATA TYPE INTEGER;\n'
        'ALTER TABLE "T" ALTER COLUMN "d" SET DATA TYPE VARCHAR(5);\n'
        'ALTER TABLE "T" ALTER COLUMN "e" SET DATA TYPE DECIMAL(12,2);\n'
        'ALTER TABLE "T" ALTER COLUMN "a" TYPE VARCHAR(50) USING lower("a");\n'
    )
    findings = analyze_sql(sql, "postgresql", history=history)
    assert [f.severity for f in findings] == ["low", "low", "medium", "medium", "low", "medium"]
    assert [f.column for f in findings] == ["a", "b", "c", "d", "e", "a"]
    assert all(f.kind == "alter_column_type" and f.table == "T" for f in findings)


def test_set_not_null_with_default_in_same_statement_is_low() -> None:
    sql = 'ALTER TABLE "U" ALTER COLUMN "n" SET DEFAULT \'x\', ALTER COLUMN "n" SET NOT NULL;'
    (finding,) = analyze_sql(sql, "postgresql")
    assert (finding.kind, finding.severity) == ("set_not_null", "low")
    (bare,) = analyze_sql('ALTER TABLE "U" ALTER COLUMN "n" SET NOT NULL;', "postgresql")
    assert (bare.kind, bare.severity) == ("set_not_null", "medium")


@pytest.mark.parametrize("provider", ["postgresql", "sqlite"])
def test_required_column_without_default_on_an_existing_table(provider: str) -> None:
    sql = ('ALTER TABLE "U" ADD COLUMN "a" TEXT NOT NULL;\n'
           'ALTER TABLE "U" ADD COLUMN "b" TEXT NOT NULL DEFAULT \'x\';\n'
           'CREATE TABLE "N" ("id" INTEGER);\nALTER TABLE "N" ADD COLUMN "c" TEXT NOT NULL;\n')
    findings = analyze_sql(sql, provider)
    assert [(f.kind, f.severity, f.table, f.column, f.line) for f in findings] == [
        ("set_not_null", "medium", "U", "a", 1), ("set_not_null", "low", "N", "c", 4)]


def test_primary_key_added_to_an_existing_table() -> None:
    sql = ('ALTER TABLE "U" ADD CONSTRAINT "U_pkey" PRIMARY KEY ("id");\n'
           'ALTER TABLE "U" ADD COLUMN "n" SERIAL NOT NULL, ADD COLUMN "i" INT GENERATED ALWAYS AS IDENTITY;\n')
    (finding,) = analyze_sql(sql, "postgresql")
    assert (finding.kind, finding.severity, finding.column) == ("add_unique", "medium", "id")
    assert "primary key" in finding.message


def test_unique_on_table_created_in_same_file_is_not_reported() -> None:
    sql = 'CREATE TABLE "N" ("a" TEXT);\nCREATE UNIQUE INDEX "N_a_key" ON "N"("a");\n'
    assert analyze_sql(sql, "postgresql") == []
    assert analyze_sql(sql, "sqlite") == []


# --- SQLite table redefinitions ------------------------------------------------------------------

SQLITE_HISTORY = """CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "bio" TEXT
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
"""

REDEFINE = """PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL
);
INSERT INTO "new_User" ("email", "id", "name") SELECT "email", "id", "name" FROM "User";
DROP TABLE "User";
ALTER TABLE "new_User" RENAME TO "User";
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
"""


def test_sqlite_redefinition_with_history_names_dropped_column_and_not_null() -> None:
    findings = analyze_sql(REDEFINE, "sqlite", history=[SQLITE_HISTORY])
    got = sorted((f.kind, f.severity, f.table, f.column, f.line) for f in findings)
    assert got == [("drop_column", "high", "User", "bio", 9), ("set_not_null", "medium", "User", "name", 9)]
    assert "bio" in next(f.message for f in findings if f.kind == "drop_column")


def test_sqlite_redefinition_without_history_is_reported_not_as_drop_table() -> None:
    findings = analyze_sql(REDEFINE, "sqlite")
    kinds = {f.kind for f in findings}
    assert "drop_table" not in kinds and "rename" not in kinds
    assert any(f.kind == "alter_column_type" and f.severity == "medium" for f in findings)


def test_sqlite_redefinition_keeping_every_column_is_a_rebuild_not_a_type_change() -> None:
    keep = REDEFINE.replace('"name" TEXT NOT NULL', '"name" TEXT,\n    "bio" TEXT').replace(
        '("email", "id", "name") SELECT "email", "id", "name"',
        '("bio", "email", "id", "name") SELECT "bio", "email", "id", "name"',
    )
    findings = analyze_sql(keep, "sqlite", history=[SQLITE_HISTORY])
    assert [(f.kind, f.severity) for f in findings] == [("table_rebuild", "info")]
    assert "every existing column is copied with its type" in findings[0].message
    assert not evaluate(findings, DEFAULT_RULES).destructive


def test_sqlite_type_change_is_worded_in_sqlite_types() -> None:
    """SQLite's declared types as written and its type affinity, never PostgreSQL's names."""
    retyped = REDEFINE.replace('"name" TEXT NOT NULL', '"name" INTEGER,\n    "bio" VARCHAR(200)').replace(
        '("email", "id", "name") SELECT "email", "id", "name"',
        '("bio", "email", "id", "name") SELECT "bio", "email", "id", "name"',
    )
    findings = {f.column: f for f in analyze_sql(retyped, "sqlite", history=[SQLITE_HISTORY])}
    assert set(findings) == {"name", "bio"}
    assert findings["name"].kind == "alter_column_type" and findings["name"].severity == "medium"
    assert "TEXT → INTEGER" in findings["name"].message and "affinity" in findings["name"].message
    # VARCHAR(200) has TEXT affinity: SQLite copies the values unchanged
    assert findings["bio"].severity == "low" and "TEXT → VARCHAR(200)" in findings["bio"].message
    assert not any(word in f.message for f in findings.values() for word in ("int4", "text →", "varchar("))


def test_sqlite_drop_and_recreate_without_copy_is_a_drop_table() -> None:
    sql = (
        'CREATE TABLE "new_User" ("id" INTEGER NOT NULL PRIMARY KEY);\n'
        'DROP TABLE "User";\n'
        'ALTER TABLE "new_User" RENAME TO "User";\n'
    )
    findings = analyze_sql(sql, "sqlite")
    assert ("drop_table", "high", "User") in [(f.kind, f.severity, f.table) for f in findings]


@pytest.mark.parametrize("provider", ["postgresql", "sqlite"])
def test_a_table_from_an_earlier_pending_migration_keeps_the_severity(provider: str) -> None:
    """A fresh database loses no rows, but the statement is reported as what it is, the same on
    both databases; only what the same migration creates is low, and the message says which."""
    findings = analyze_migrations(
        [("m1", 'CREATE TABLE "A" ("x" TEXT, "y" TEXT);'),
         ("m2", 'ALTER TABLE "A" DROP COLUMN "x";\nCREATE TABLE "B" ("z" TEXT);\nDROP TABLE "B";\nDROP TABLE "A";')],
        provider,
    )
    assert [(f.migration, f.kind, f.severity, f.table) for f in findings] == [
        ("m2", "drop_column", "high", "A"), ("m2", "drop_table", "low", "B"), ("m2", "drop_table", "high", "A")]
    assert "created by m1, earlier in this plan" in findings[0].message
    assert "created by this same migration" in findings[1].message
    assert "same migration" not in findings[2].message
    assert evaluate(findings, DEFAULT_RULES).approval_level == "enhanced"


def test_history_names_the_migration_that_created_the_table() -> None:
    history = [("20240101000000_init", 'CREATE TABLE "A" ("x" TEXT);'), ("20240201000000_b", 'CREATE TABLE "B" ();')]
    (finding,) = analyze_sql('DROP TABLE "A";', "postgresql", history=history)
    assert finding.message == 'Drops table "A" and all its rows (the table was created by 20240101000000_init)'
    (renamed,) = analyze_sql('ALTER TABLE "A" RENAME TO "C";', "postgresql", history=history)
    assert "created by 20240101000000_init" in renamed.message


# --- rules ---------------------------------------------------------------------------------------


def _finding(kind: str, severity: str = "high", table: str | None = "T", rows: int | None = None) -> Finding:
    return Finding(statement="...", line=1, kind=kind, severity=severity, table=table, rows=rows)  # type: ignore[arg-type]


def test_evaluate_blocks_drop_database_with_default_rules() -> None:
    decision = evaluate(analyze_sql('DROP DATABASE "x";', "postgresql"), DEFAULT_RULES)
    assert [f.kind for f in decision.blocked] == ["drop_database"]
    assert decision.needs_approval == []
    assert not decision.allowed
    assert "Never allowed through automation" in decision.reasons[0]


def test_evaluate_drop_schema_blocked_and_others_need_approval() -> None:
    findings = [
        _finding("drop_schema", "critical", None),
        _finding("drop_table"),
        _finding("drop_column"),
        _finding("lock_risk", "medium"),
        _finding("alter_column_type", "low"),
    ]
    decision = evaluate(findings, DEFAULT_RULES)
    assert [f.kind for f in decision.blocked] == ["drop_schema"]
    assert [f.kind for f in decision.needs_approval] == ["drop_table", "drop_column"]
    assert decision.approval_level == "enhanced"  # drop_table's default
    assert decision.requires_backup


def test_evaluate_standard_approval_for_drop_column_only() -> None:
    decision = evaluate([_finding("drop_column", rows=1234)], DEFAULT_RULES)
    assert decision.approval_level == "standard"
    assert decision.destructive and decision.allowed
    assert "1234 rows" in decision.reasons[0]


def test_evaluate_truncate_below_threshold_is_still_destructive() -> None:
    decision = evaluate([_finding("truncate", rows=12)], DEFAULT_RULES)
    assert [f.kind for f in decision.needs_approval] == ["truncate"]
    assert "below the row threshold of 1000" in decision.reasons[0]
    assert "still destructive" in decision.reasons[0]


def test_evaluate_unparsed_needs_approval() -> None:
    decision = evaluate([_finding("unparsed", "medium", None)], DEFAULT_RULES)
    assert [f.kind for f in decision.needs_approval] == ["unparsed"]


def test_evaluate_nothing_destructive() -> None:
    decision = evaluate([], DEFAULT_RULES)
    assert not decision.destructive and decision.allowed and decision.approval_level == "standard"
    assert not decision.requires_backup


# --- lock lint -----------------------------------------------------------------------------------

INDEX_SQL = '-- CreateIndex\nCREATE INDEX "Post_authorId_idx" ON "Post"("authorId");\n'


@pytest.mark.parametrize("use_squawk", [True, False], ids=["squawk", "fallback"])
def test_create_index_without_concurrently_is_flagged_with_rule_id(use_squawk: bool) -> None:
    if use_squawk and not HAS_SQUAWK:
        no_squawk()
    findings = lint_locks(INDEX_SQL, migration="m", use_squawk=use_squawk)
    index = [f for f in findings if f.rule == "require-concurrent-index-creation"]
    assert len(index) == 1
    assert (index[0].line, index[0].table, index[0].kind, index[0].severity) == (2, "Post", "lock_risk", "medium")
    assert index[0].statement.startswith('CREATE INDEX "Post_authorId_idx"')
    assert index[0].migration == "m"
    assert "require-lock-timeout" in {f.rule for f in findings}


@pytest.mark.parametrize("use_squawk", [True, False], ids=["squawk", "fallback"])
def test_lint_rules_on_existing_tables(use_squawk: bool) -> None:
    if use_squawk and not HAS_SQUAWK:
        no_squawk()
    sql = (
        'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE VARCHAR(100);\n'
        'ALTER TABLE "Post" ADD COLUMN "uid" UUID NOT NULL DEFAULT gen_random_uuid();\n'
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_a_fkey" FOREIGN KEY ("a") REFERENCES "User"("id");\n'
    )
    by_rule = {f.rule: f.line for f in lint_locks(sql, use_squawk=use_squawk)}
    assert by_rule["changing-column-type"] == 1
    assert by_rule["adding-field-with-default"] == 2
    assert by_rule["adding-foreign-key-constraint"] == 3


@pytest.mark.parametrize("use_squawk", [True, False], ids=["squawk", "fallback"])
def test_lint_quiet_for_new_tables_and_concurrent_index(use_squawk: bool) -> None:
    if use_squawk and not HAS_SQUAWK:
        no_squawk()
    sql = (
        'CREATE TABLE "N" ("id" BIGINT NOT NULL, "a" TEXT);\n'
        'CREATE INDEX "N_a_idx" ON "N"("a");\n'
    )
    # (squawk still asks for a lock_timeout there; the fallback does not)
    assert "require-concurrent-index-creation" not in {f.rule for f in lint_locks(sql, use_squawk=use_squawk)}
    safe = "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY \"P_a_idx\" ON \"P\"(\"a\");\n"
    assert not {f.rule for f in lint_locks(safe, use_squawk=use_squawk)} & {
        "require-concurrent-index-creation",
        "require-lock-timeout",
    }


# --- live row counts -----------------------------------------------------------------------------


class _CountingDb(SqliteDatabase):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.counted: list[str] = []

    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if sql.startswith("SELECT count(*)"):
            self.counted.append(sql)
        return super().query(sql, params)


def test_count_rows_against_a_real_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "dev.db"
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE "User" ("id" INTEGER PRIMARY KEY, "bio" TEXT)')
        conn.executemany('INSERT INTO "User" ("bio") VALUES (?)', [(f"b{i}",) for i in range(1234)])
    conn.close()
    sql = (
        'ALTER TABLE "User" DROP COLUMN "bio";\n'
        'ALTER TABLE "User" RENAME COLUMN "id" TO "uid";\n'
        'DROP TABLE "Ghost";\n'
    )
    findings = analyze_sql(sql, "sqlite")
    db = _CountingDb(path)
    try:
        count_rows(findings, db)
    finally:
        db.close()
    assert [(f.kind, f.table, f.rows) for f in findings] == [
        ("drop_column", "User", 1234),
        ("rename", "User", 1234),
        ("drop_table", "Ghost", None),
    ]
    assert db.counted == ['SELECT count(*) FROM "User"', 'SELECT count(*) FROM "Ghost"']  # once per table
    assert 'does not exist in this database yet' in findings[2].message


# --- import cost ---------------------------------------------------------------------------------


def test_importing_safety_does_not_import_the_parsers() -> None:
    code = (
        "import sys, faber_db.safety\n"
        "assert 'pglast' not in sys.modules and 'sqlglot' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("use_squawk", [True, False], ids=["squawk", "fallback"])
def test_lint_continues_past_an_unparseable_statement(use_squawk: bool) -> None:
    if use_squawk and not HAS_SQUAWK:
        no_squawk()
    sql = 'ALTER TABLE "U" DROPP COLUMN "x";\nCREATE INDEX "U_a_idx" ON "U"("a");\n'
    rules = {(f.rule, f.line) for f in lint_locks(sql, use_squawk=use_squawk)}
    assert ("require-concurrent-index-creation", 2) in rules


@pytest.mark.parametrize(("sql", "additive"), [
    ('CREATE TABLE "T" ("id" INTEGER NOT NULL PRIMARY KEY);\nCREATE INDEX "T_i" ON "T"("id");\n', True),
    ('CREATE TABLE "P" ("a" INT, CONSTRAINT "f" FOREIGN KEY ("a") REFERENCES "T"("id") '
     'ON DELETE CASCADE ON UPDATE CASCADE);', True),
    ('-- DropTable\nCREATE TABLE "T" ("id" INT);', True),  # a comment naming DROP is not a statement
    ('CREATE UNIQUE INDEX "u" ON "T"("a");', False),
    # a unique index or column on a table the same script creates: no row exists to fail it
    ('CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY, "email" TEXT NOT NULL);\n'
     'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n', True),
    ('CREATE TABLE "T" ("id" INT, "a" TEXT UNIQUE, CONSTRAINT "T_u" UNIQUE ("id", "a"));', True),
    ('CREATE TABLE IF NOT EXISTS "T" ("a" INT);\nCREATE UNIQUE INDEX "u" ON "T"("a");', False),
    ('CREATE TABLE "A" ("a" INT);\nCREATE UNIQUE INDEX "u" ON "B"("a");', False),
    ('CREATE TABLE "T" ("a" INT);\nINSERT INTO "T" VALUES (1), (1);\nCREATE UNIQUE INDEX "u" ON "T"("a");', False),
    ('CREATE TABLE "T" ("a" INT);\nCREATE UNIQUE INDEX "u" ON "T"("a");\nUPDATE "T" SET "a" = 1;', False),
    ('CREATE TABLE "T" ("a" INT);\nCREATE UNIQUE INDEX CONCURRENTLY "u" ON "T"("a");', False),
    ('CREATE UNIQUE INDEX "u" ON "T"("a");\nCREATE TABLE "T" ("a" INT);', False),  # before the table: an old one
    ('CREATE TABLE "T" ("a" INT);\nCREATE UNIQUE INDEX "u" ON "T"("a");\nCREATE UNIQUE INDEX "v" ON "Old"("b");',
     False),
    ('CREATE TABLE "T" AS SELECT * FROM "Old";\nCREATE UNIQUE INDEX "u" ON "T"("a");', False),  # it has rows
    ('CREATE TABLE "T" ("a" INT);\nCREATE UNIQUE INDEX "u" ON "T"("a")\n-- ; DROP TABLE "Old"\n;', True),
    ('CREATE TABLE "T" ("a" INT);\nCREATE UNIQUE INDEX "u" ON "T"("a") WHERE "a" IN (SELECT 1 FROM "Old");', True),
    ('ALTER TABLE "T" ADD COLUMN "b" TEXT;', False),
    ('this is not sql', False),  # unknown text is parsed (and reported as unparsed), never waved through
    ('CREATE TABLE "T" ("id" INT); DELETE FROM "T";', False),
    ("DO $$ BEGIN EXECUTE 'DROP TABLE x'; END $$;", False),
])
def test_plainly_additive_gate_skips_only_creations(sql: str, additive: bool) -> None:
    from faber_db.safety import plainly_additive

    assert plainly_additive(sql) is additive
    if sql.startswith(("this is", "DO $$")) or sql.endswith('DELETE FROM "T";'):
        assert analyze_sql(sql, "postgresql"), "a risky or unknown script must be reported"
    if additive:  # what the shortcut waves through, the parser finds nothing in either
        for provider in ("sqlite", "postgresql"):
            with mock.patch("faber_db.safety.analysis.plainly_additive", return_value=False):
                assert analyze_sql(sql, provider) == [], (provider, sql)
