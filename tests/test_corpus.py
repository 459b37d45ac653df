"""The corpus in tests/corpus is what it claims to be.

- Files: Prisma's layout, the traits each history promises, labels that point at real statements,
  and no destructive-looking statement left unlabelled.
- PostgreSQL: each history deploys with the real Prisma CLI as a role that is not a superuser,
  seed.sql loads, the labelled row counts are what the database holds at that point of the
  history, and `prisma migrate diff --from-migrations` shows exactly the documented
  schema<->history differences.
- SQLite: the same with Prisma's SQLite driver adapter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import corpus
import pytest
from corpus import Label, deploy, replay
from corpus.deploy import CorpusTemplates
from corpus.statements import Statement, split
from harness import PostgresServer, copy_sqlite, pg_query, sqlite_query, sqlite_url

PG = [name for name in corpus.names() if corpus.provider(name) == "postgresql"]
SQLITE = [name for name in corpus.names() if corpus.provider(name) == "sqlite"]
MIGRATION_NAME = re.compile(r"^\d{14}_[a-z0-9_]+$")

# What each history promises (the brief it was written to); checked against the files.
MIN_MIGRATIONS = {"pg_commerce": 160, "pg_saas_small": 20, "sqlite_notes": 50}
TRAITS: dict[str, list[str]] = {
    "pg_commerce": [
        r'CREATE EXTENSION IF NOT EXISTS "?pgcrypto"?;',
        r'CREATE EXTENSION IF NOT EXISTS "?pg_trgm"?;',
        r'CREATE EXTENSION IF NOT EXISTS "?citext"?;',
        r'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";',
        r"CREATE SCHEMA IF NOT EXISTS audit;",
        r"CREATE SCHEMA IF NOT EXISTS reporting;",
        r"ALTER TYPE \"\w+\" ADD VALUE '\w+'",
        r"ALTER TYPE \"\w+\" RENAME VALUE '\w+' TO '\w+'",
        r'ALTER TYPE "\w+" RENAME TO "\w+";',
        r'CREATE TYPE "\w+_new" AS ENUM',
        r"LANGUAGE plpgsql",
        r"CREATE TRIGGER",
        r"DO \$\$\nDECLARE[^$]*;[^$]*\$\$;",
        r"\$fn\$",
        r"DO \$do\$",
        r"CREATE VIEW reporting\.",
        r"CREATE MATERIALIZED VIEW reporting\.",
        r"GENERATED (ALWAYS|BY DEFAULT) AS IDENTITY",
        r"CREATE SEQUENCE",
        r"COMMENT ON (TABLE|COLUMN)",
        r"CREATE POLICY",
        r"ENABLE ROW LEVEL SECURITY",
        r"USING GIN \(\"\w+\" gin_trgm_ops\)",
        r"CREATE (UNIQUE )?INDEX \"\w+\" ON \"\w+\" \([^)]*\) WHERE",
        r"USING GIN \(to_tsvector",
        r"CREATE INDEX CONCURRENTLY",
        r"DELETE FROM \"\w+\"( \w+)?\s+WHERE",
        r"WITH \w+ AS \([^;]*\)\s*DELETE FROM",
        r"UPDATE \"\w+\"( \w+)?\s+SET[^;]*WHERE",
        r'RENAME CONSTRAINT "\w+" TO "\w+"',
        r'RENAME COLUMN "\w+" TO "\w+"',
        r'ALTER TABLE "\w+" RENAME TO "\w+"',
        r'SET NOT NULL',
        r'DROP COLUMN "\w+"',
        r"SET DATA TYPE",
        r'CREATE TABLE "public"\."\w+"',
    ],
    "pg_saas_small": [
        r'CREATE SCHEMA IF NOT EXISTS "billing";',
        r'CREATE TABLE "billing"\."\w+"',
        r'REFERENCES "public"\."Organization"',
        r"GENERATED ALWAYS AS IDENTITY",
        r"WITH \w+ AS \([^;]*\)\s*UPDATE",
        r"ALTER TYPE \"billing\"\.\"\w+\" RENAME VALUE",
        r"CREATE VIEW \"billing\"\.",
        r"WHERE \"endedAt\" IS NULL;",
    ],
    "sqlite_notes": [
        r'PRAGMA defer_foreign_keys=ON;\nPRAGMA foreign_keys=OFF;\nCREATE TABLE "new_\w+"',
        r'INSERT INTO "new_\w+" \([^)]*\) SELECT [^;]* FROM "\w+"\nWHERE ',
        r'DROP TABLE "\w+";\nALTER TABLE "new_\w+" RENAME TO "\w+";',
        r"CREATE TRIGGER",
        r"CREATE UNIQUE INDEX",
        r'CREATE INDEX "\w+" ON "\w+"\("\w+"\) WHERE',
        r"DELETE FROM \"\w+\"\s+WHERE",
        r'RENAME COLUMN "\w+" TO "\w+"',
    ],
}

_KIND_SHAPE: dict[str, str] = {
    "drop_table": r"^DROP TABLE",
    "drop_column": r"^(ALTER TABLE .* DROP COLUMN|DROP TABLE)",
    "alter_column_type": r"^(ALTER TABLE .*ALTER COLUMN \"\w+\" (SET DATA )?TYPE |DROP TABLE)",
    "set_not_null": r"^(ALTER TABLE .*(SET NOT NULL|ADD COLUMN\s+\"\w+\" [^,;]*NOT NULL)|DROP TABLE)",
    "add_unique": r"^(CREATE UNIQUE INDEX|ALTER TABLE .* ADD CONSTRAINT \"\w+\" (UNIQUE|PRIMARY KEY))",
    "rename": r"^ALTER (TABLE|TYPE) .*RENAME",
    "truncate": r"^TRUNCATE",
    "delete_without_where": r'^DELETE FROM ("\w+"\.)?"\w+"$',
    "update_without_where": r"^UPDATE (?!.*\bWHERE\b)",
    "delete_where": r"^(DELETE FROM .*WHERE|WITH .*DELETE FROM|DO .*DELETE FROM .*WHERE|INSERT INTO .*SELECT .*WHERE)",
    "update_where": r"^(UPDATE .*WHERE|WITH .*UPDATE|DO .*UPDATE .*WHERE)",
    "drop_view": r"^DROP VIEW",
    "drop_materialized_view": r"^DROP MATERIALIZED VIEW",
    "drop_function": r"^DROP FUNCTION",
    "drop_trigger": r"^DROP TRIGGER",
    "drop_type": r"^DROP TYPE",
    "drop_extension": r"^DROP EXTENSION",
}

# Coarse shapes of statements that can lose data or break a client; each such statement must be
# labelled unless it is part of one of Prisma's own patterns (README.md: labelling rules).
_DESTRUCTIVE_LOOKING = [
    r"^(DELETE|TRUNCATE|UPDATE)\b",
    r"^WITH\b.*\b(DELETE FROM|UPDATE \S+( \w+)? SET)\b",
    r"^DO\b.*\b(DELETE FROM|UPDATE \S+( \w+)?\s+SET)\b",
    r"^DROP (TABLE|VIEW|MATERIALIZED VIEW|FUNCTION|TRIGGER|TYPE|EXTENSION)\b",
    r"^ALTER TYPE .* RENAME\b",
    r"^ALTER TABLE .*( RENAME |DROP COLUMN|SET NOT NULL|ALTER COLUMN \"\w+\" (SET DATA )?TYPE )",
]
_PRISMA_PATTERN = [
    # the enum swap: the old type is renamed away and dropped, the new one takes its name
    r'^ALTER TYPE ("\w+"\.)?"\w+" RENAME TO "\w+_old"$',
    r'^ALTER TYPE ("\w+"\.)?"\w+_new" RENAME TO "\w+"$',
    r'^DROP TYPE ("\w+"\.)?"\w+_old"$',
    # SQLite's redefine-table: the copy takes the old table's name
    r'^ALTER TABLE "new_\w+" RENAME TO "\w+"$',
]


def _matches(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text, re.DOTALL) for p in patterns)


def _statements(name: str) -> dict[str, list[Statement]]:
    return {m.name: split(m.sql, corpus.provider(name)) for m in corpus.history(name)}


def _redefined_drops(statements: list[Statement]) -> set[int]:
    """Lines of `DROP TABLE "X"` that a SQLite redefine follows with `ALTER TABLE "new_X" RENAME TO "X"`."""
    renamed = {m.group(1) for s in statements if (m := re.match(r'^ALTER TABLE "new_(\w+)" RENAME TO', s.text))}
    return {s.line for s in statements if (m := re.match(r'^DROP TABLE "(\w+)"$', s.text)) and m.group(1) in renamed}


# --- the files ---------------------------------------------------------------------------------


def test_names_and_layout() -> None:
    assert corpus.names() == ["pg_commerce", "pg_saas_small", "sqlite_notes"]
    folder = corpus.schema_path("pg_saas_small")
    assert folder.is_dir() and len(list(folder.glob("*.prisma"))) >= 3
    assert 'schemas  = ["public", "billing"]' in (folder / "schema.prisma").read_text()
    for name in corpus.names():
        migrations = corpus.history(name)
        assert migrations, name
        assert [m.name for m in migrations] == sorted(m.name for m in migrations)
        assert all(MIGRATION_NAME.match(m.name) for m in migrations), name
        assert len(migrations) >= MIN_MIGRATIONS.get(name, 1)
        assert corpus.schema_path(name).exists()
        assert corpus.seed_sql(name).strip()
        corpus.migration_index(name, corpus.seed_after(name))  # raises unless it is a migration
        lock = (corpus.migrations_dir(name) / "migration_lock.toml").read_text()
        assert lock.startswith("# Please do not edit this file manually\n")
        assert corpus.history(name, 3) == migrations[:3]
        assert corpus.history(name, migrations[2].name) == migrations[:3]


@pytest.mark.parametrize("name", sorted(TRAITS))
def test_history_has_the_traits_it_promises(name: str) -> None:
    text = "\n".join(m.sql.replace("\r\n", "\n") for m in corpus.history(name))
    missing = [trait for trait in TRAITS[name] if not re.search(trait, text)]
    assert missing == []


def test_pg_commerce_covers_every_kind_with_rows() -> None:
    found = corpus.labels("pg_commerce")
    assert {label.kind for label in found} == set(corpus.KINDS)
    with_rows = {label.kind for label in found if label.rows}
    assert with_rows >= {"delete_where", "update_where", "drop_column", "rename", "truncate", "drop_table"}
    assert max(label.rows or 0 for label in found if label.kind == "delete_where") > 5000
    assert any(m.sql.count("\r\n") > 0 for m in corpus.history("pg_commerce")), "one migration has CRLF endings"


@pytest.mark.parametrize("name", corpus.names())
def test_labels_point_at_statements_of_their_kind(name: str) -> None:
    statements = _statements(name)
    seed_index = corpus.migration_index(name, corpus.seed_after(name))
    seen: set[tuple[str, int, str, str | None]] = set()
    order = [(corpus.migration_index(name, label.migration), label.line) for label in corpus.labels(name)]
    assert order == sorted(order), "labels are in history order"
    for label in corpus.labels(name):
        by_line = {s.line: s for s in statements[label.migration]}
        assert label.line in by_line, f"{label.migration}:{label.line} starts no statement"
        text = by_line[label.line].text
        assert re.search(_KIND_SHAPE[label.kind], text, re.DOTALL), (label, text[:200])
        key = (label.migration, label.line, label.kind, label.target)
        assert key not in seen, f"duplicate label {key}"
        seen.add(key)
        before_seed = corpus.migration_index(name, label.migration) <= seed_index
        if before_seed or not replay.counted(label):
            assert label.rows is None, label
        else:
            assert label.rows is not None, f"{label} is after the seed point and has no row count"


@pytest.mark.parametrize("name", corpus.names())
def test_every_destructive_looking_statement_is_labelled(name: str) -> None:
    labelled = {(label.migration, label.line) for label in corpus.labels(name)}
    unlabelled: list[str] = []
    for migration, statements in _statements(name).items():
        mechanics = _redefined_drops(statements)
        for statement in statements:
            if not _matches(_DESTRUCTIVE_LOOKING, statement.text) or _matches(_PRISMA_PATTERN, statement.text):
                continue
            if statement.line in mechanics:
                continue
            if (migration, statement.line) not in labelled:
                unlabelled.append(f"{migration}:{statement.line}: {statement.text[:80]}")
    assert unlabelled == []


# --- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def templates(pg_server: PostgresServer, kit_node_modules: Path) -> CorpusTemplates:
    return deploy.corpus_templates(pg_server, kit_node_modules)


def _with_clone(server: PostgresServer, template: str, check: Callable[[str], None]) -> None:
    dbname = deploy.clone_owned(server, template)
    try:
        check(deploy.owner_url(server, dbname))
    finally:
        server.drop_database(dbname)


def _applied(url: str) -> list[str]:
    rows = pg_query(
        url,
        'SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name',
    )
    assert all(r["finished_at"] is not None and r["rolled_back_at"] is None for r in rows), rows
    return [str(r["migration_name"]) for r in rows]


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG)
def test_pg_history_deploys_as_a_role_that_is_not_superuser(
    name: str, pg_server: PostgresServer, templates: CorpusTemplates
) -> None:
    def check(url: str) -> None:
        assert _applied(url) == [m.name for m in corpus.history(name)]
        role = pg_query(
            url, "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )[0]
        assert role == {"rolname": deploy.OWNER, "rolsuper": False, "rolcreatedb": False, "rolcreaterole": False}
        owner = pg_query(
            url, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()"
        )
        assert owner == [{"owner": deploy.OWNER}]
        not_owned = pg_query(
            url,
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
            "AND c.relkind IN ('r', 'v', 'm', 'S', 'i') AND pg_get_userbyid(c.relowner) <> current_user "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
            "AND d.objid = c.oid AND d.deptype = 'e')",
        )
        assert not_owned == []
        extensions = pg_query(
            url,
            "SELECT e.extname, n.nspname, pg_get_userbyid(e.extowner) AS owner FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1",
        )
        wanted = sorted(corpus.superuser_extensions(name))
        assert extensions == [{"extname": ext, "nspname": "public", "owner": "postgres"} for ext in wanted]

    _with_clone(pg_server, templates.pg(name), check)


@pytest.mark.postgres
def test_pg_commerce_holds_production_sized_data(pg_server: PostgresServer, templates: CorpusTemplates) -> None:
    def check(url: str) -> None:
        counts = pg_query(
            url,
            'SELECT (SELECT count(*) FROM "User") AS users, (SELECT count(*) FROM "Order") AS orders, '
            '(SELECT count(*) FROM "OrderItem") AS items, (SELECT count(*) FROM audit.log) AS audit_rows, '
            "(SELECT count(*) FROM reporting.product_stats) AS stats, "
            "(SELECT count(*) FROM reporting.daily_sales) AS days",
        )[0]
        assert counts["users"] >= 10000 and counts["orders"] >= 10000 and counts["items"] >= 40000
        assert counts["audit_rows"] > 0 and counts["stats"] > 0 and counts["days"] > 0
        policies = pg_query(url, "SELECT count(*) AS n FROM pg_policies")
        assert policies == [{"n": 2}]

    _with_clone(pg_server, templates.pg("pg_commerce"), check)


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG)
def test_pg_labelled_rows_are_what_the_database_holds(
    name: str, pg_server: PostgresServer, templates: CorpusTemplates
) -> None:
    """Replay every migration after the seed point statement by statement on a copy of the
    seeded database and count what each labelled statement really touches."""
    seed_count = corpus.migration_index(name, corpus.seed_after(name)) + 1
    dbname = deploy.clone_owned(pg_server, templates.pg(name, seed_count))
    try:
        assert _applied(deploy.owner_url(pg_server, dbname)) == [m.name for m in corpus.history(name, seed_count)]
        with pg_server.connect(dbname, user=deploy.OWNER, password=deploy.OWNER_PASSWORD) as conn:
            measured = replay.replay_pg(conn, name, start=seed_count)
    finally:
        pg_server.drop_database(dbname)
    expected = {label: label.rows for label in corpus.labels(name) if label.rows is not None}
    assert expected, f"{name} has no row-count labels"
    assert {label: measured.get(label) for label in expected} == expected


def _drift_statements(name: str, diff_sql: str) -> set[tuple[str, str]]:
    """(verb, index name) of each statement in a migrate diff script; anything else as ("other", text)."""
    found: set[tuple[str, str]] = set()
    for statement in split(diff_sql, corpus.provider(name)):
        drop = re.match(r'^DROP INDEX (?:"\w+"\.)?"(\w+)"$', statement.text)
        create = re.match(r'^CREATE (?:UNIQUE )?INDEX "(\w+)" ON ', statement.text)
        if drop:
            found.add(("drop", drop.group(1)))
        elif create:
            found.add(("create", create.group(1)))
        else:
            found.add(("other", statement.text))
    return found


def _expected_drift(name: str) -> set[tuple[str, str]]:
    drift = corpus.schema_drift(name)
    return {("drop", item.name) for item in drift.created_not_declared if item.seen_by_prisma} | {
        ("create", item.name) for item in drift.declared_not_created if item.seen_by_prisma
    }


def _schema_arg(name: str) -> str:
    return "prisma/schema" if corpus.schema_path(name).is_dir() else "prisma/schema.prisma"


def _schema_text(name: str) -> str:
    path = corpus.schema_path(name)
    return "\n".join(p.read_text() for p in sorted(path.glob("*.prisma"))) if path.is_dir() else path.read_text()


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG)
def test_pg_schema_history_drift_is_exactly_the_documented_one(
    name: str, pg_server: PostgresServer, templates: CorpusTemplates, kit_node_modules: Path, tmp_path: Path
) -> None:
    project = deploy.write_project(name, tmp_path / "project", kit_node_modules)
    diff = project.prisma(
        "migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", _schema_arg(name),
        "--script", database_url=pg_server.url("postgres"), timeout=600,
    )
    assert _drift_statements(name, diff.stdout) == _expected_drift(name)

    drift = corpus.schema_drift(name)
    schema = _schema_text(name)

    def check(url: str) -> None:
        catalog = pg_query(url, "SELECT schemaname, tablename, indexname FROM pg_indexes")
        indexes = {(f"{r['schemaname']}.{r['tablename']}", r["indexname"]) for r in catalog}
        for item in drift.created_not_declared:
            assert (item.table, item.name) in indexes, item
            assert item.name not in schema, item
        for item in drift.declared_not_created:
            assert all(index != item.name for _, index in indexes), item

    _with_clone(pg_server, templates.pg(name), check)


@pytest.mark.postgres
def test_templates_deploy_part_of_a_history(pg_server: PostgresServer, templates: CorpusTemplates) -> None:
    name = "pg_commerce"
    partial = templates.pg(name, 5)
    assert templates.pg(name, corpus.history(name)[4].name) == partial, "the same template is reused"

    def check(url: str) -> None:
        assert _applied(url) == [m.name for m in corpus.history(name, 5)]
        assert pg_query(url, 'SELECT count(*) AS n FROM "User"') == [{"n": 0}], "no seed before the seed point"

    _with_clone(pg_server, partial, check)


# --- SQLite ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_templates(kit_node_modules: Path) -> CorpusTemplates:
    return deploy.corpus_templates(None, kit_node_modules)


@pytest.mark.parametrize("name", SQLITE)
def test_sqlite_history_deploys_and_seeds(name: str, sqlite_templates: CorpusTemplates, tmp_path: Path) -> None:
    db = copy_sqlite(sqlite_templates.sqlite(name), tmp_path / "copy.db")
    rows = sqlite_query(
        db, 'SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name'
    )
    assert [r["migration_name"] for r in rows] == [m.name for m in corpus.history(name)]
    assert all(r["finished_at"] is not None and r["rolled_back_at"] is None for r in rows)
    assert sqlite_query(db, "PRAGMA foreign_key_check") == []
    assert sqlite_query(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]


@pytest.mark.parametrize("name", SQLITE)
def test_sqlite_labelled_rows_are_what_the_database_holds(name: str, tmp_path: Path) -> None:
    measured = replay.replay_sqlite(tmp_path / "replay.db", name)
    expected: dict[Label, int | None] = {label: label.rows for label in corpus.labels(name) if label.rows is not None}
    assert expected, f"{name} has no row-count labels"
    assert {label: measured.get(label) for label in expected} == expected


@pytest.mark.parametrize("name", SQLITE)
def test_sqlite_schema_history_drift_is_exactly_the_documented_one(
    name: str, kit_node_modules: Path, tmp_path: Path
) -> None:
    project = deploy.write_project(name, tmp_path / "project", kit_node_modules)
    diff = project.prisma(
        "migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", _schema_arg(name),
        "--script", database_url=sqlite_url(tmp_path / "scratch.db"), timeout=600,
    )
    assert _drift_statements(name, diff.stdout) == _expected_drift(name)
