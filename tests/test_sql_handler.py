"""The `sql` migration tool: a folder of plain `<version>_<name>.sql` files through the same pipeline
as Prisma, on real SQLite and the session's real PostgreSQL server, driven through the real CLI.

The unit tests read files the way a person writes them (up and down sections, sibling .down.sql,
bad names); the lifecycle test is what a team with a dbmate-style folder does: init, status, a dry run
with live row counts, the refused and then approved protected deploy with a verified backup, a failing
migration restored and checked row for row, a rollback by down sections, drift, and the audit chain.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faber import describe, error_code, run_faber, tree_snapshot
from faber_db.errors import FaberError
from faber_db.handlers.sql import local_migrations, split_sections
from harness import PostgresServer, pg_query, sqlite_query, unique_db_name

# --- reading the files ----------------------------------------------------------------------------


def test_up_and_down_sections_are_split_at_their_marker_lines() -> None:
    text = b"-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n"
    assert split_sections(text, "x.sql") == (b"CREATE TABLE a (id int);\n\n", b"DROP TABLE a;\n")
    # without an up marker everything before the down marker is the up script
    assert split_sections(b"CREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;", "x.sql") == (
        b"CREATE TABLE a (id int);\n", b"DROP TABLE a;")
    # no down section at all; a marker with dbmate's options is still the marker
    assert split_sections(b"-- migrate:up transaction:false\nSELECT 1;\n", "x.sql") == (b"SELECT 1;\n", None)
    assert split_sections(b"SELECT 1; -- migrate:down is only a marker on a line of its own\n", "x.sql")[1] is None


@pytest.mark.parametrize("text, problem", [
    (b"-- migrate:up\nA;\n-- migrate:up\nB;\n", "more than one `-- migrate:up`"),
    (b"A;\n-- migrate:down\nB;\n-- migrate:down\nC;\n", "more than one `-- migrate:down`"),
    (b"-- migrate:down\nB;\n-- migrate:up\nA;\n", "comes after"),
])
def test_unclear_sections_are_refused(text: bytes, problem: str) -> None:
    with pytest.raises(FaberError) as raised:
        split_sections(text, "db/migrations/1_a.sql")
    assert raised.value.code == "MIGRATION_FILE_INVALID" and problem in raised.value.message
    assert raised.value.hint


def test_files_are_ordered_by_version_and_checksummed_by_their_up_script(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "10_later.sql").write_text("-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n")
    (folder / "9_first.sql").write_text("CREATE TABLE a (id int);\n")
    (folder / "9_first.down.sql").write_text("DROP TABLE a;\n")
    (folder / "README.md").write_text("not a migration\n")
    found = local_migrations(folder, tmp_path)
    assert [m.name for m in found] == ["9_first", "10_later"], "numeric order, not text order"
    assert found[0].checksum == hashlib.sha256(b"CREATE TABLE a (id int);\n").hexdigest()
    assert found[1].checksum == hashlib.sha256(b"CREATE TABLE b (id int);\n").hexdigest()
    assert found[0].down_bytes(tmp_path) == b"DROP TABLE a;\n"
    assert found[1].down_bytes(tmp_path) == b"DROP TABLE b;\n"
    assert found[1].up_text() == "CREATE TABLE b (id int);\n"


@pytest.mark.parametrize("files, problem", [
    ({"create_users.sql": "SELECT 1;"}, "not a migration file name"),
    ({"1_a.sql": "SELECT 1;", "1_b.sql": "SELECT 2;"}, "version 1 is also used by 1_a.sql"),
    ({"1_a.sql": "SELECT 1;", "1_b.down.sql": "SELECT 2;"}, "no 1_b.sql beside it"),
    ({"1_a.sql": "SELECT 1;\n-- migrate:down\nSELECT 2;\n", "1_a.down.sql": "SELECT 3;"}, "and a 1_a.down.sql"),
])
def test_bad_folders_are_refused_by_the_cli_and_nothing_changes(tmp_path: Path, files: dict[str, str],
                                                                 problem: str) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0_base.sql").write_text("CREATE TABLE base (id INTEGER PRIMARY KEY);\n")
    env: dict[str, str | None] = {"DEV_DATABASE_URL": f"file:{tmp_path / 'dev.db'}"}
    init = run_faber(tmp_path, "init", env=env)
    assert init.returncode == 0 and init.checked()["details"]["migration_tool"] == "sql", describe(init.checked())
    for name, text in files.items():
        (folder / name).write_text(text)
    tree = tree_snapshot(tmp_path)
    for args in (("status", "dev"), ("migrate", "dev")):
        run = run_faber(tmp_path, *args, env=env)
        result = run.checked()
        assert run.returncode == 2 and error_code(result) == "MIGRATION_FILE_INVALID", describe(result)
        assert problem in result["errors"][0]["message"] and result["errors"][0]["hint"]
    database = tmp_path / "dev.db"
    assert not database.exists() or sqlite_query(database, "SELECT name FROM sqlite_master") == [], "nothing applied"
    kept = ("audit", "locks", "dev.db")  # the refusal is audited; the lock file and an empty database may be made
    assert {k: v for k, v in tree_snapshot(tmp_path).items() if not any(x in k for x in kept)} == {
        k: v for k, v in tree.items() if not any(x in k for x in kept)}


def test_init_without_a_database_to_go_by_asks_for_the_provider(tmp_path: Path) -> None:
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "migrations" / "20260101000000_init.sql").write_text("CREATE TABLE a (id int);\n")
    run = run_faber(tmp_path, "init", env={"DEV_DATABASE_URL": None})
    assert run.returncode == 2 and error_code(run.checked()) == "INVALID_ARGUMENT"
    assert "--provider" in run.checked()["errors"][0]["hint"]
    assert not (tmp_path / ".fractary" / "plugins" / "faber-db" / "config.toml").exists()
    chosen = run_faber(tmp_path, "init", "--provider", "postgresql", env={"DEV_DATABASE_URL": None}).checked()
    assert chosen["details"]["provider"] == "postgresql" and chosen["details"]["migrations_dir"] == "db/migrations"
    config = (tmp_path / ".fractary" / "plugins" / "faber-db" / "config.toml").read_text()
    assert 'migration_tool = "sql"' in config and "[prisma]" not in config


def test_generate_migration_writes_an_empty_timestamped_file(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "29990101000000_future.sql").write_text("CREATE TABLE a (id int);\n")
    env: dict[str, str | None] = {"DEV_DATABASE_URL": f"file:{tmp_path / 'dev.db'}"}
    assert run_faber(tmp_path, "init", env=env).returncode == 0
    generated = run_faber(tmp_path, "generate-migration", "Add invoices!", env=env).checked()
    migration = generated["details"]["migration"]
    assert migration["name"] == "29990101000001_add_invoices", "later than every existing version"
    written = (tmp_path / migration["path"]).read_text()
    assert written == "-- migrate:up\n\n\n-- migrate:down\n\n"
    assert [m.name for m in local_migrations(folder, tmp_path)] == ["29990101000000_future", migration["name"]]


# --- the whole lifecycle ----------------------------------------------------------------------------


@dataclass
class SqlProject:
    root: Path
    provider: str
    urls: dict[str, str]

    @property
    def folder(self) -> Path:
        return self.root / "db" / "migrations"

    def faber(self, *args: str, expect: int | None = 0) -> dict[str, Any]:
        run = run_faber(self.root, *args, env=dict(self.urls))
        result = run.checked()
        if expect is not None:
            assert run.returncode == expect, f"faber-db {' '.join(args)}: exit {run.returncode}\n{result}\n{run.stderr}"
        return result

    def approve(self, *args: str, expect: int | None = 0) -> dict[str, Any]:
        """A protected operation as a person approves it: the dry run's plan id, then the apply."""
        details = self.faber(*args, "--dry-run")["details"]
        plan_id = details["plan"]["plan_id"] if "plan" in details else details["plan_id"]
        return self.faber(*args, "--approve", plan_id, expect=expect)

    def url(self, environment: str) -> str:
        return self.urls[{"dev": "DEV_DATABASE_URL", "staging": "STAGING_DATABASE_URL",
                          "production": "PROD_DATABASE_URL"}[environment]]

    def rows(self, sql: str, environment: str = "production") -> list[dict[str, Any]]:
        url = self.url(environment)
        if url.startswith("file:"):
            return sqlite_query(Path(url.removeprefix("file:")), sql)
        return pg_query(url, sql)

    def table(self, name: str) -> list[dict[str, Any]]:
        return sorted(self.rows(f"SELECT * FROM {name}"), key=repr)

    def write(self, sql: str, environment: str = "production") -> None:
        url = self.url(environment)
        if url.startswith("file:"):
            with closing(sqlite3.connect(url.removeprefix("file:"))) as conn:
                conn.executescript(sql)
            return
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def add(self, name: str, text: str) -> None:
        (self.folder / f"{name}.sql").write_text(text)


# Several tables with rows, a trigger, on PostgreSQL extensions in public and a plpgsql function.
SCHEMA = {
    "sqlite": """-- migrate:up
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, updated_at TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                     total_cents INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'new');
CREATE TABLE legacy_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TRIGGER customers_touch AFTER UPDATE OF email ON customers
BEGIN
  UPDATE customers SET updated_at = datetime('now') WHERE id = NEW.id;
END;
INSERT INTO customers (email, name)
  WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 40)
  SELECT 'user' || n || '@example.com', 'User ' || n FROM g;
INSERT INTO orders (customer_id, total_cents, status)
  WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 120)
  SELECT (n % 40) + 1, n * 100, CASE WHEN n % 5 = 0 THEN 'cancelled' ELSE 'paid' END FROM g;
INSERT INTO legacy_notes (body)
  WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 15) SELECT 'note ' || n FROM g;

-- migrate:down
DROP TABLE legacy_notes;
DROP TABLE orders;
DROP TABLE customers;
""",
    "postgresql": """-- migrate:up
CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE TABLE customers (id bigserial PRIMARY KEY, email citext NOT NULL UNIQUE, name text,
                        token text NOT NULL DEFAULT encode(gen_random_bytes(8), 'hex'), updated_at timestamptz);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id),
                     total_cents integer NOT NULL, status text NOT NULL DEFAULT 'new');
CREATE TABLE legacy_notes (id bigserial PRIMARY KEY, body text NOT NULL);
CREATE FUNCTION customers_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION customers_touch();
INSERT INTO customers (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 40) g;
INSERT INTO orders (customer_id, total_cents, status)
  SELECT (g % 40) + 1, g * 100, CASE WHEN g % 5 = 0 THEN 'cancelled' ELSE 'paid' END FROM generate_series(1, 120) g;
INSERT INTO legacy_notes (body) SELECT 'note ' || g FROM generate_series(1, 15) g;

-- migrate:down
DROP TABLE legacy_notes;
DROP TABLE orders;
DROP TABLE customers;
DROP FUNCTION customers_touch();
""",
}
CLEANUP = """-- migrate:up
DELETE FROM orders WHERE status = 'cancelled';
DROP TABLE legacy_notes;

-- migrate:down
CREATE TABLE legacy_notes (id {serial} PRIMARY KEY, body TEXT NOT NULL);
"""
BROKEN = "ALTER TABLE customers ADD COLUMN tier TEXT;\nINSERT INTO no_such_table VALUES (1);\n"
FIRST, CLEANED, BROKEN_NAME = "20260101000000_shop", "20260102000000_cleanup", "20260103000000_broken"


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlProject]:
    provider: str = request.param
    root = tmp_path / "shop"
    (root / "db" / "migrations").mkdir(parents=True)
    server: PostgresServer | None = None
    names: list[str] = []
    urls: dict[str, str] = {}
    for variable in ("DEV_DATABASE_URL", "STAGING_DATABASE_URL", "PROD_DATABASE_URL"):
        if provider == "sqlite":
            urls[variable] = f"file:{tmp_path / (variable.lower() + '.db')}"
            continue
        server = request.getfixturevalue("pg_server")
        names.append(server.create_database(unique_db_name("sqlh")))
        urls[variable] = server.url(names[-1])
    try:
        yield SqlProject(root, provider, urls)
    finally:
        for name in names:
            assert server is not None
            server.drop_database(name)


def test_the_whole_lifecycle_of_plain_sql_migrations(sql_project: SqlProject) -> None:
    life = sql_project
    life.add(FIRST, SCHEMA[life.provider])
    init = life.faber("init")["details"]
    assert (init["migration_tool"], init["provider"], init["migrations_dir"]) == ("sql", life.provider, "db/migrations")
    assert life.faber("status", "dev", expect=None)["details"]["pending"] == [FIRST]
    assert life.faber("migrate", "dev")["details"]["applied"] == [FIRST]
    assert life.faber("status", "dev")["details"]["up_to_date"] is True
    assert len(life.rows("SELECT * FROM orders", "dev")) == 120

    refused = life.faber("migrate", "production", expect=3)
    assert error_code(refused) == "APPROVAL_REQUIRED"
    assert life.faber("status", "production", expect=None)["details"]["applied"] == [], "the refusal changed nothing"
    deployed = life.approve("migrate", "production")["details"]
    assert deployed["applied"] == [FIRST] and deployed["backup"]["verified"] is True
    history = life.rows("SELECT version, name, checksum, finished_at, rolled_back_at FROM faber_db_migrations")
    assert [(r["version"], r["name"], r["rolled_back_at"]) for r in history] == [("20260101000000", "shop", None)]
    up = SCHEMA[life.provider].split("-- migrate:down")[0].split("-- migrate:up\n", 1)[1]
    assert history[0]["checksum"] == hashlib.sha256(up.encode()).hexdigest() and history[0]["finished_at"]

    # a person's hand-made index the history does not know: the protected plan names it
    life.write("CREATE INDEX orders_by_status ON orders (status)")
    life.add(CLEANED, CLEANUP.format(serial="INTEGER" if life.provider == "sqlite" else "bigserial"))
    dry = life.faber("migrate", "production", "--dry-run", "--allow-destructive", "--allow-drift")["details"]
    findings = {f["kind"]: f for f in dry["plan"]["findings"]}
    assert findings["delete_where"]["table"] == "orders" and findings["delete_where"]["rows"] == 24
    assert findings["drop_table"]["table"] == "legacy_notes" and findings["drop_table"]["rows"] == 15
    assert any(d["object"] == "index" and d["name"] == "orders_by_status" for d in dry["drift"]), dry["drift"]
    assert life.rows("SELECT count(*) AS n FROM orders")[0]["n"] == 120, "a dry run changes nothing"
    cleaned = life.approve("migrate", "production", "--allow-destructive", "--allow-drift")["details"]
    assert cleaned["applied"] == [CLEANED] and cleaned["backup"]["verified"] is True
    assert life.rows("SELECT count(*) AS n FROM orders")[0]["n"] == 96
    life.write("DROP INDEX orders_by_status")
    assert life.faber("status", "production", "--drift")["details"]["drift"] == []

    before = {table: life.table(table) for table in ("customers", "orders")}
    life.add(BROKEN_NAME, BROKEN)
    failed = life.approve("migrate", "production", expect=1)
    details = failed["details"]
    assert error_code(failed) == "MIGRATION_FAILED", describe(failed)
    assert details["failed_migration"] == BROKEN_NAME and "no_such_table" in details["tool_output"]
    assert details["tool_output"] == details["prisma_output"], "the deprecated alias says the same"
    assert details["restored"] is True and details["restore_verified"] is True
    assert {table: life.table(table) for table in ("customers", "orders")} == before, "rows equal before/after"
    status = life.faber("status", "production", expect=None)["details"]
    assert status["failed"] == [] and status["pending"] == [BROKEN_NAME]
    (life.folder / f"{BROKEN_NAME}.sql").unlink()

    rolled = life.approve("rollback", "production", "--last", "1")["details"]
    assert rolled["strategy"] == "down" and rolled["rolled_back"] == [CLEANED]
    status = life.faber("status", "production", expect=None)["details"]
    assert status["applied"] == [FIRST] and status["pending"] == [CLEANED]
    assert life.rows("SELECT count(*) AS n FROM legacy_notes")[0]["n"] == 0, "the down section re-created it"
    marked = life.rows(f"SELECT rolled_back_at FROM faber_db_migrations WHERE version = '{CLEANED[:14]}'")
    assert len(marked) == 1 and marked[0]["rolled_back_at"], "the history keeps the rolled-back row, marked"

    life.write("CREATE TABLE scratch (id INTEGER PRIMARY KEY)")
    drifted = life.faber("status", "production", "--drift", expect=1)
    assert error_code(drifted) == "DRIFT_DETECTED", describe(drifted)
    assert any(d["object"] == "table" and d["table"] == "scratch" for d in drifted["details"]["drift"])

    audit = life.faber("audit", "--verify")
    assert audit["details"]["problems"] == [], audit
    operations = [(e["operation"], e["outcome"]) for e in audit["details"]["entries"]]
    assert ("migrate", "refused") in operations and ("migrate", "failed") in operations
    assert ("rollback", "applied") in operations


def test_a_failing_migration_without_a_backup_leaves_nothing_of_itself(tmp_path: Path) -> None:
    """--skip-backup: the failed migration's own transaction is what keeps the database whole."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "1_accounts.sql").write_text("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);\n"
                                           "INSERT INTO accounts (name) VALUES ('ada'), ('grace');\n")
    (folder / "2_broken.sql").write_text("CREATE TABLE invoices (id INTEGER PRIMARY KEY);\n"
                                         "UPDATE accounts SET name = 'x';\nINSERT INTO nope VALUES (1);\n")
    database = tmp_path / "dev.db"
    env: dict[str, str | None] = {"DEV_DATABASE_URL": f"file:{database}"}
    assert run_faber(tmp_path, "init", env=env).returncode == 0
    run = run_faber(tmp_path, "migrate", "dev", "--skip-backup", env=env)
    result = run.checked()
    assert run.returncode == 1 and error_code(result) == "MIGRATION_FAILED", describe(result)
    assert result["details"]["backup"] is None and result["details"]["failed_migration"] == "2_broken"
    assert "transaction was rolled back" in result["suggested_fixes"][0]
    assert "prisma" not in " ".join(result["suggested_fixes"]).lower()
    tables = {r["name"] for r in sqlite_query(database, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"accounts", "faber_db_migrations"}, "invoices was rolled back with the rest of 2_broken"
    assert [r["name"] for r in sqlite_query(database, "SELECT name FROM accounts ORDER BY id")] == ["ada", "grace"]
    assert [r["name"] for r in sqlite_query(database, "SELECT name FROM faber_db_migrations")] == ["accounts"]


# A statement that runs far past the test's --timeout (minutes), after one that would leave a table behind.
SLOW = {
    "sqlite": "CREATE TABLE half_done (id INTEGER);\nCREATE TABLE counted AS WITH RECURSIVE g(n) AS "
              "(SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000000000) SELECT count(*) AS n FROM g;\n",
    "postgresql": "CREATE TABLE half_done (id integer);\nSELECT pg_sleep(600);\n",
}


def test_the_deploy_timeout_stops_a_long_migration_and_leaves_nothing_of_it(sql_project: SqlProject) -> None:
    """--timeout bounds the sql tool's deploy as it bounds Prisma's: the database stops the running
    migration (statement_timeout / an interrupt), its transaction is rolled back, the earlier ones stay."""
    life = sql_project
    life.add("1_accounts", "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);\n"
                           "INSERT INTO accounts (id, name) VALUES (1, 'ada'), (2, 'grace');\n")
    life.add("2_slow", SLOW[life.provider])
    life.faber("init")
    stopped = life.faber("migrate", "dev", "--timeout", "2", "--skip-backup", expect=1)
    assert error_code(stopped) == "MIGRATION_FAILED", describe(stopped)
    assert stopped["details"]["failed_migration"] == "2_slow", describe(stopped)
    assert "timeout" in stopped["errors"][0]["message"] and "rolled back" in stopped["errors"][0]["message"]
    tables = life.rows("SELECT name FROM sqlite_master WHERE type = 'table'", "dev") if life.provider == "sqlite" \
        else life.rows("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'", "dev")
    assert {t["name"] for t in tables} == {"accounts", "faber_db_migrations"}, "nothing of 2_slow stayed"
    assert [r["name"] for r in life.rows("SELECT name FROM faber_db_migrations", "dev")] == ["accounts"]
    assert [r["name"] for r in life.rows("SELECT name FROM accounts ORDER BY id", "dev")] == ["ada", "grace"]
    status = life.faber("status", "dev", expect=None)["details"]
    assert status["applied"] == ["1_accounts"] and status["pending"] == ["2_slow"] and status["failed"] == []
