"""faber_db.backups on real SQLite (stdlib) and a real PostgreSQL server (pg_dump / pg_restore)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from faber_db.backups import (
    BackupManifest,
    DataSnapshot,
    check_integrity,
    create_backup,
    diff_snapshots,
    list_backups,
    load_manifest,
    prune_backups,
    restore_backup,
    take_snapshot,
)
from faber_db.engines import PostgresDatabase, SqliteDatabase, parse_postgres_url, postgres_tools
from faber_db.engines import sqlite as sqlite_engine
from faber_db.errors import FaberError
from harness import FABER_PASSWORD, PostgresServer, traits, unique_db_name

# --- helpers ------------------------------------------------------------------------------------

SQLITE_SCHEMA = """
CREATE TABLE "_prisma_migrations" (id TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL,
  finished_at DATETIME, migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME,
  started_at DATETIME NOT NULL DEFAULT current_timestamp, applied_steps_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE "User" (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, name TEXT, score REAL,
  avatar BLOB);
CREATE UNIQUE INDEX "User_email_key" ON "User"(email);
CREATE TABLE "Post" (id INTEGER PRIMARY KEY, title TEXT NOT NULL, "authorId" INTEGER NOT NULL
  REFERENCES "User"(id) ON DELETE CASCADE);
CREATE TABLE "Log" (msg TEXT, n INTEGER);
INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
  VALUES ('m1', 'abc', current_timestamp, '20240101000000_init', 1);
"""


def make_sqlite(path: Path, *, wal: bool = False, users: int = 50) -> str:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SQLITE_SCHEMA)
    conn.executemany('INSERT INTO "User"(email, name, score, avatar) VALUES (?, ?, ?, ?)',
                     [(f"u{i}@x.io", f"User {i}" if i % 3 else None, i / 7, bytes([i % 256]) * 3)
                      for i in range(users)])
    conn.executemany('INSERT INTO "Post"(title, "authorId") VALUES (?, ?)',
                     [(f"post {i}", 1 + i % users) for i in range(users * 2)])
    conn.executemany('INSERT INTO "Log" VALUES (?, ?)', [("dup", 1), ("dup", 1), ("x", None)])
    conn.commit()
    conn.close()
    return f"file:{path}"


def sqlite_contents(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out: dict[str, Any] = {"__schema__": conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()}
        for t in tables:
            rows = conn.execute(f'SELECT * FROM "{t}"').fetchall()
            out[t] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def change_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        INSERT INTO "User"(email) VALUES ('new@x.io');
        UPDATE "User" SET name = 'changed' WHERE id = 2;
        DELETE FROM "Post" WHERE id > 10;
        DELETE FROM "Log";
        CREATE TABLE "Extra" (id INTEGER PRIMARY KEY, "userId" INTEGER REFERENCES "User"(id));
        INSERT INTO "Extra" VALUES (1, 1);
        ALTER TABLE "User" ADD COLUMN bio TEXT;
        INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('m2', 'def', '2_more');
    """)
    conn.commit()
    conn.close()


def backup_kwargs(url: str, tmp_path: Path, provider: str = "sqlite") -> dict[str, Any]:
    return {"provider": provider, "url": url, "schema_dir": tmp_path, "backup_dir": tmp_path / "backups",
            "environment": "production", "migrations": ["20240101000000_init"]}


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def sqlite_db(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "dev.db"
    return path, make_sqlite(path)


# --- SQLite -------------------------------------------------------------------------------------


def test_sqlite_backup_change_restore_rows_equal(tmp_path: Path, sqlite_db: tuple[Path, str]) -> None:
    path, url = sqlite_db
    before = sqlite_contents(path)
    messages: list[str] = []
    manifest = create_backup(**backup_kwargs(url, tmp_path), label="pre-deploy", progress=messages.append)
    assert manifest.verified and "integrity_check ok" in manifest.verification
    assert manifest.snapshot.tables == {"_prisma_migrations": 1, "User": 50, "Post": 100, "Log": 3}
    assert manifest.snapshot.migrations_table is not None
    assert "_prisma_migrations" not in manifest.snapshot.data_tables
    folder = tmp_path / "backups" / "production"
    assert sorted(p.name for p in folder.iterdir()) == [f"{manifest.id}.json", f"{manifest.id}.sqlite"]
    assert messages

    change_sqlite(path)
    assert sqlite_contents(path) != before
    with SqliteDatabase(path) as db:
        assert diff_snapshots(manifest.snapshot, take_snapshot(db))

    snap = restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert sqlite_contents(path) == before
    assert diff_snapshots(manifest.snapshot, snap) == []
    assert not list(tmp_path.glob(".dev.db*"))  # no temp file left


def test_sqlite_wal_database_restores(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    url = make_sqlite(path, wal=True)
    before = sqlite_contents(path)
    manifest = create_backup(**backup_kwargs(url, tmp_path))
    # an open reader keeps the WAL alive while data changes
    change_sqlite(path)
    snap = restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert diff_snapshots(manifest.snapshot, snap) == []
    assert sqlite_contents(path) == before
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_manifest_roundtrip_list_and_load(tmp_path: Path, sqlite_db: tuple[Path, str]) -> None:
    _, url = sqlite_db
    first = create_backup(**backup_kwargs(url, tmp_path), label="one")
    time.sleep(1.05)
    second = create_backup(**backup_kwargs(url, tmp_path), label="two")
    listed = list_backups(tmp_path / "backups", "production")
    assert [m.id for m in listed] == [second.id, first.id]
    loaded = load_manifest(tmp_path / "backups", "production", first.id)
    assert loaded == first
    assert loaded.tool_versions["sqlite"] == sqlite3.sqlite_version and "faber-db" in loaded.tool_versions
    assert loaded.created_at.endswith("Z") and loaded.file == f"{first.id}.sqlite"
    assert list_backups(tmp_path / "backups", "staging") == []
    with pytest.raises(FaberError) as err:
        load_manifest(tmp_path / "backups", "production", "20200101T000000Z-dead")
    assert err.value.code == "BACKUP_NOT_FOUND"
    with pytest.raises(FaberError) as err:
        load_manifest(tmp_path / "backups", "production", "../../etc/passwd")
    assert err.value.code == "BACKUP_NOT_FOUND"


def test_corrupted_sqlite_backup_is_refused_and_database_unchanged(
    tmp_path: Path, sqlite_db: tuple[Path, str]
) -> None:
    path, url = sqlite_db
    manifest = create_backup(**backup_kwargs(url, tmp_path))
    change_sqlite(path)
    changed = sqlite_contents(path)
    flip_byte(tmp_path / "backups" / "production" / manifest.file)
    with pytest.raises(FaberError) as err:
        check_integrity(manifest, tmp_path / "backups")
    assert err.value.code == "BACKUP_CORRUPT" and err.value.exit_code == 1
    with pytest.raises(FaberError) as err:
        restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert err.value.code == "BACKUP_CORRUPT"
    assert sqlite_contents(path) == changed


def test_missing_backup_file_is_corrupt(tmp_path: Path, sqlite_db: tuple[Path, str]) -> None:
    _, url = sqlite_db
    manifest = create_backup(**backup_kwargs(url, tmp_path))
    (tmp_path / "backups" / "production" / manifest.file).unlink()
    with pytest.raises(FaberError) as err:
        check_integrity(manifest, tmp_path / "backups")
    assert err.value.code == "BACKUP_CORRUPT"


def test_unwritable_backup_dir_fails_and_leaves_nothing(tmp_path: Path, sqlite_db: tuple[Path, str]) -> None:
    _, url = sqlite_db
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the backup folder should be")
    kwargs = backup_kwargs(url, tmp_path)
    kwargs["backup_dir"] = blocker / "backups"
    with pytest.raises(FaberError) as err:
        create_backup(**kwargs)
    assert err.value.code == "BACKUP_FAILED" and err.value.hint
    assert blocker.read_text().startswith("a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.db", "not-a-dir"]


def test_readonly_backup_dir_fails(tmp_path: Path, sqlite_db: tuple[Path, str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = sqlite_db
    real_write = Path.write_bytes

    def refuse(self: Path, data: bytes) -> int:
        if ".probe" in self.name:
            raise PermissionError(13, "Permission denied")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", refuse)
    with pytest.raises(FaberError) as err:
        create_backup(**backup_kwargs(url, tmp_path))
    assert err.value.code == "BACKUP_FAILED" and "Permission denied" in err.value.message
    assert list((tmp_path / "backups" / "production").iterdir()) == []


def test_verification_mismatch_fails_and_removes_partial_files(
    tmp_path: Path, sqlite_db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = sqlite_db
    real = sqlite_engine.snapshot
    calls = {"n": 0}

    def skewed(db: Any) -> DataSnapshot:
        snap = real(db)
        calls["n"] += 1
        if calls["n"] == 2:  # the copy's snapshot
            snap.tables["User"] += 1
        return snap

    monkeypatch.setattr(sqlite_engine, "snapshot", skewed)
    with pytest.raises(FaberError) as err:
        create_backup(**backup_kwargs(url, tmp_path))
    assert err.value.code == "BACKUP_FAILED"
    assert err.value.details["differences"] == ["table User: 51 rows, expected 50"]
    assert list((tmp_path / "backups" / "production").iterdir()) == []


def test_missing_sqlite_database_fails(tmp_path: Path) -> None:
    with pytest.raises(FaberError) as err:
        create_backup(**backup_kwargs(f"file:{tmp_path / 'nope.db'}", tmp_path))
    assert err.value.code == "BACKUP_FAILED"
    assert list((tmp_path / "backups" / "production").iterdir()) == []


@pytest.mark.parametrize("name", ["aws-rds-snapshot", "gcp-sql-snapshot"])
def test_cloud_providers_are_not_supported_yet(tmp_path: Path, sqlite_db: tuple[Path, str], name: str) -> None:
    _, url = sqlite_db
    with pytest.raises(FaberError) as err:
        create_backup(**backup_kwargs(url, tmp_path), provider_name=name)
    assert err.value.code == "PROVIDER_UNSUPPORTED" and "not supported yet" in err.value.message
    assert not (tmp_path / "backups").exists()


def test_prune_keeps_newest_verified_and_foreign_files(tmp_path: Path, sqlite_db: tuple[Path, str]) -> None:
    _, url = sqlite_db
    root = tmp_path / "backups"
    folder = root / "production"
    made = []
    for i in range(4):
        made.append(create_backup(**backup_kwargs(url, tmp_path), label=str(i)))
    # rewrite times so the order is certain: made[3] newest
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i, m in enumerate(made):
        data = json.loads((folder / f"{m.id}.json").read_text())
        data["created_at"] = (base + timedelta(days=i)).isoformat().replace("+00:00", "Z")
        if i == 3:
            data["verified"] = False  # the newest is not verified
        (folder / f"{m.id}.json").write_text(json.dumps(data))
    (folder / "notes.txt").write_text("mine")
    (folder / "20200101T000000Z-beef.sqlite").write_text("no manifest: not faber-db's to delete")

    pruned = prune_backups(root, "production", keep_count=1, keep_days=0, now=base + timedelta(days=4))
    assert sorted(pruned) == sorted([made[0].id, made[1].id])
    left = {m.id for m in list_backups(root, "production")}
    assert left == {made[3].id, made[2].id}  # newest (within keep_count) and newest verified
    assert (folder / "notes.txt").exists() and (folder / "20200101T000000Z-beef.sqlite").exists()
    assert not (folder / made[0].file).exists()

    # age: everything is old, yet the newest verified one stays
    pruned = prune_backups(root, "production", keep_count=10, keep_days=1, now=base + timedelta(days=100))
    assert pruned == [made[3].id]
    assert [m.id for m in list_backups(root, "production")] == [made[2].id]


def test_interrupted_restore_before_swap_leaves_database_old(
    tmp_path: Path, sqlite_db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, url = sqlite_db
    manifest = create_backup(**backup_kwargs(url, tmp_path))
    change_sqlite(path)
    changed = sqlite_contents(path)

    def boom(tmp: Path, live: Path) -> None:
        assert tmp.is_file()  # the full restored copy exists, verified
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sqlite_engine, "swap_into_place", boom)
    with pytest.raises(FaberError) as err:
        restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert err.value.code == "RESTORE_FAILED"
    assert sqlite_contents(path) == changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "dev.db"]


def test_killed_restore_process_leaves_database_old_then_restore_works(
    tmp_path: Path, sqlite_db: tuple[Path, str]
) -> None:
    path, url = sqlite_db
    manifest = create_backup(**backup_kwargs(url, tmp_path))
    before = sqlite_contents(path)
    change_sqlite(path)
    changed = sqlite_contents(path)
    child = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from faber_db import backups
        m = backups.load_manifest(Path({str(tmp_path / 'backups')!r}), "production", {manifest.id!r})
        def progress(msg):
            print(msg, flush=True)
            if msg.startswith("replacing"):
                time.sleep(60)
        backups.restore_backup(m, url={url!r}, schema_dir=Path({str(tmp_path)!r}),
                               backup_dir=Path({str(tmp_path / 'backups')!r}), progress=progress)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("replacing"):
            break
    else:
        pytest.fail(f"the child never reached the swap (exit {proc.wait()})")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sqlite_contents(path) == changed  # fully old
    assert list(tmp_path.glob(".dev.db.faber-restore-*.tmp"))  # the killed run's temp copy
    restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert sqlite_contents(path) == before  # fully new
    assert not list(tmp_path.glob(".dev.db.faber-restore-*.tmp"))  # cleaned up


def test_diff_snapshots_reports_each_kind() -> None:
    a = DataSnapshot({"A": 1, "B": 2, "_prisma_migrations": 1}, {"A": "x", "B": "y", "_prisma_migrations": "m"},
                     "s1")
    b = DataSnapshot({"A": 1, "C": 0, "_prisma_migrations": 2}, {"A": "z", "C": "", "_prisma_migrations": "n"},
                     "s2")
    assert diff_snapshots(a, a) == []
    assert diff_snapshots(a, b) == [
        "table B is missing (2 rows expected)",
        "table C is unexpected (0 rows)",
        "table A: same row count (1) but different content",
        "table _prisma_migrations (migration history): 2 rows, expected 1",
        "schema differs (tables, columns, types, indexes or constraints)",
    ]


# --- PostgreSQL ---------------------------------------------------------------------------------

PG_SCHEMA = """
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE TABLE "_prisma_migrations" (id VARCHAR(36) PRIMARY KEY, checksum VARCHAR(64) NOT NULL,
  finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE "User" (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, role "Role" NOT NULL
  DEFAULT 'USER', score DOUBLE PRECISION, created TIMESTAMPTZ NOT NULL DEFAULT now(), avatar BYTEA,
  meta JSONB);
CREATE TABLE "Post" (id SERIAL PRIMARY KEY, title TEXT NOT NULL,
  "authorId" INTEGER NOT NULL REFERENCES "User"(id) ON DELETE CASCADE);
CREATE INDEX "Post_authorId_idx" ON "Post"("authorId");
CREATE TABLE "Empty" (k TEXT);
INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
  VALUES ('m1', 'abc', now(), '20240101000000_init', 1);
INSERT INTO "User" (email, name, role, score, avatar, meta)
  SELECT 'u' || g || '@x.io', CASE WHEN g % 3 = 0 THEN NULL ELSE 'User ' || g END,
         CASE WHEN g % 5 = 0 THEN 'ADMIN'::"Role" ELSE 'USER' END, g / 7.0, decode('00ff', 'hex'),
         jsonb_build_object('g', g) FROM generate_series(1, 200) g;
INSERT INTO "Post" (title, "authorId") SELECT 'post ' || g, 1 + g % 200 FROM generate_series(1, 500) g;
"""

PG_CHANGE = """
INSERT INTO "User" (email) VALUES ('new@x.io');
UPDATE "User" SET name = 'changed', meta = '{"x": 1}' WHERE id = 2;
DELETE FROM "Post" WHERE id > 100;
CREATE TYPE "Status" AS ENUM ('A', 'B');
CREATE TABLE "Extra" (id SERIAL PRIMARY KEY, "userId" INTEGER NOT NULL REFERENCES "User"(id),
  status "Status");
INSERT INTO "Extra" ("userId") VALUES (1);
ALTER TABLE "User" ADD COLUMN bio TEXT;
DROP TABLE "Empty";
CREATE VIEW "UserNames" AS SELECT name FROM "User";
INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ('m2', 'def', '2_more');
"""


def pg_contents(server: PostgresServer, dbname: str, schema: str = "public") -> dict[str, Any]:
    with server.connect(dbname) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema]).fetchall()]
        out: dict[str, Any] = {"__columns__": conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY 1, ordinal_position", [schema]).fetchall()}
        out["__types__"] = conn.execute(
            "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE nspname = %s AND typtype = 'e' ORDER BY 1", [schema]).fetchall()
        for t in tables:
            rows = conn.execute(f'SELECT t::text FROM "{schema}"."{t}" t').fetchall()
            out[t] = sorted(r[0] for r in rows)
        return out


@pytest.fixture
def pg_db(pg_server: PostgresServer) -> Iterator[tuple[str, str]]:
    name = pg_server.create_database(unique_db_name("bk"))
    try:
        with pg_server.connect(name) as conn:
            conn.execute(PG_SCHEMA)  # type: ignore[arg-type]
        yield name, pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.mark.postgres
def test_pg_backup_change_restore_rows_equal(
    tmp_path: Path, pg_server: PostgresServer, pg_db: tuple[str, str]
) -> None:
    name, url = pg_db
    before = pg_contents(pg_server, name)
    manifest = create_backup(**backup_kwargs(url, tmp_path, "postgresql"), label="pre-deploy")
    assert manifest.verified and manifest.file.endswith(".dump") and manifest.pg_schema == "public"
    assert manifest.snapshot.tables == {"_prisma_migrations": 1, "User": 200, "Post": 500, "Empty": 0}
    assert "4 TABLE DATA entries" in manifest.verification
    assert manifest.tool_versions["pg_dump"].startswith(str(pg_server.version).split(".")[0])

    with pg_server.connect(name) as conn:
        conn.execute(PG_CHANGE)  # type: ignore[arg-type]
    assert pg_contents(pg_server, name) != before

    snap = restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert diff_snapshots(manifest.snapshot, snap) == []
    assert pg_contents(pg_server, name) == before
    with pg_server.connect(name) as conn:  # the serial goes on where it was
        conn.execute("INSERT INTO \"User\" (email) VALUES ('after@x.io')")
        assert conn.execute("SELECT max(id) FROM \"User\"").fetchone() == (201,)


@pytest.mark.postgres
def test_pg_snapshot_detects_same_count_content_change(pg_server: PostgresServer, pg_db: tuple[str, str]) -> None:
    name, url = pg_db
    with PostgresDatabase(parse_postgres_url(url)) as db:
        first = take_snapshot(db)
        assert take_snapshot(db) == first
    with pg_server.connect(name) as conn:
        conn.execute("UPDATE \"User\" SET score = score + 0.5 WHERE id = 7")
    with PostgresDatabase(parse_postgres_url(url)) as db:
        second = take_snapshot(db)
    assert diff_snapshots(first, second) == ["table User: same row count (200) but different content"]


@pytest.mark.postgres
def test_pg_manifest_and_dump_hold_no_password(tmp_path: Path, pg_db: tuple[str, str]) -> None:
    _, url = pg_db
    assert FABER_PASSWORD in url
    manifest = create_backup(**backup_kwargs(url, tmp_path, "postgresql"))
    folder = tmp_path / "backups" / "production"
    for path in folder.iterdir():
        data = path.read_bytes()
        assert FABER_PASSWORD.encode() not in data, path.name
        assert b"postgresql://" not in data and b"127.0.0.1" not in data, path.name
    assert FABER_PASSWORD not in json.dumps(manifest.to_dict())


@pytest.mark.postgres
def test_pg_wrong_password_fails_without_leaking(tmp_path: Path, pg_server: PostgresServer,
                                                 pg_db: tuple[str, str]) -> None:
    name, _ = pg_db
    url = pg_server.url(name, password="Wrong-Secret-77")
    with pytest.raises(FaberError) as err:
        create_backup(**backup_kwargs(url, tmp_path, "postgresql"))
    assert err.value.code == "BACKUP_FAILED"
    text = err.value.message + err.value.hint + json.dumps(err.value.details)
    assert "Wrong-Secret-77" not in text
    assert list((tmp_path / "backups" / "production").iterdir()) == []


@pytest.mark.postgres
def test_pg_dump_failure_is_backup_failed(tmp_path: Path, pg_db: tuple[str, str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = pg_db
    real = postgres_tools.find_pg_tools

    def broken(major: int, needed: tuple[str, ...]) -> Any:
        tools = real(major, needed)
        fake = tmp_path / "bin"
        fake.mkdir(exist_ok=True)
        for n in needed:
            script = fake / n
            script.write_text("#!/bin/sh\necho 'pg_dump: error: disk full' >&2\nexit 1\n")
            script.chmod(0o755)
        return postgres_tools.PgTools(fake, tools.major, tools.version)

    monkeypatch.setattr(postgres_tools, "find_pg_tools", broken)
    with pytest.raises(FaberError) as err:
        create_backup(**backup_kwargs(url, tmp_path, "postgresql"))
    assert err.value.code == "BACKUP_FAILED" and "disk full" in str(err.value.details["stderr"])
    assert list((tmp_path / "backups" / "production").iterdir()) == []


@pytest.mark.postgres
def test_pg_corrupted_backup_is_refused_and_database_unchanged(
    tmp_path: Path, pg_server: PostgresServer, pg_db: tuple[str, str]
) -> None:
    name, url = pg_db
    manifest = create_backup(**backup_kwargs(url, tmp_path, "postgresql"))
    with pg_server.connect(name) as conn:
        conn.execute(PG_CHANGE)  # type: ignore[arg-type]
    changed = pg_contents(pg_server, name)
    flip_byte(tmp_path / "backups" / "production" / manifest.file)
    with pytest.raises(FaberError) as err:
        restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert err.value.code == "BACKUP_CORRUPT"
    assert pg_contents(pg_server, name) == changed


@pytest.mark.postgres
def test_pg_failed_restore_rolls_back_everything(
    tmp_path: Path, pg_server: PostgresServer, pg_db: tuple[str, str]
) -> None:
    """A view in another schema depends on the restored schema: refused inside the one transaction."""
    name, url = pg_db
    manifest = create_backup(**backup_kwargs(url, tmp_path, "postgresql"))
    with pg_server.connect(name) as conn:
        conn.execute(PG_CHANGE)  # type: ignore[arg-type]
        conn.execute('CREATE SCHEMA reporting')
        conn.execute('CREATE VIEW reporting.users AS SELECT email FROM public."User"')
    changed = pg_contents(pg_server, name)
    with pytest.raises(FaberError) as err:
        restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert err.value.code == "RESTORE_FAILED"
    assert "reporting.users" in str(err.value.details["stderr"])
    assert FABER_PASSWORD not in json.dumps(err.value.details)
    assert pg_contents(pg_server, name) == changed


@pytest.mark.postgres
def test_pg_non_public_schema(tmp_path: Path, pg_server: PostgresServer, pg_db: tuple[str, str]) -> None:
    name, url = pg_db
    with pg_server.connect(name) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.item (id int PRIMARY KEY, v text)")
        conn.execute("INSERT INTO app.item SELECT g, 'v' || g FROM generate_series(1, 30) g")
    app_url = url + "?schema=app"
    public_before = pg_contents(pg_server, name)
    app_before = pg_contents(pg_server, name, "app")
    manifest = create_backup(**backup_kwargs(app_url, tmp_path, "postgresql"))
    assert manifest.pg_schema == "app" and manifest.snapshot.tables == {"item": 30}
    with pg_server.connect(name) as conn:
        conn.execute("DELETE FROM app.item WHERE id > 10")
        conn.execute("CREATE TABLE app.other (id int)")
        conn.execute("DELETE FROM public.\"Post\"")
    public_changed = pg_contents(pg_server, name)
    assert public_changed != public_before
    restore_backup(manifest, url=app_url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert pg_contents(pg_server, name, "app") == app_before
    assert pg_contents(pg_server, name) == public_changed  # other schemas untouched
    with pytest.raises(FaberError) as err:  # a backup of schema app cannot go into public
        restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert err.value.code == "RESTORE_FAILED"


@pytest.mark.postgres
def test_pg_backup_written_by_an_earlier_faber_db_still_restores(
    tmp_path: Path, pg_server: PostgresServer, pg_db: tuple[str, str]
) -> None:
    """Its manifest has one schema, no sequences or extensions, and a schema hash of another
    format: the restore compares what it records (rows, checksums) and gives the data back."""
    name, url = pg_db
    before = pg_contents(pg_server, name)
    manifest = create_backup(**backup_kwargs(url, tmp_path, "postgresql"))
    path = tmp_path / "backups" / "production" / f"{manifest.id}.json"
    data = json.loads(path.read_text())
    data.pop("pg_schemas")
    data["snapshot"] = {"tables": data["snapshot"]["tables"], "checksums": data["snapshot"]["checksums"],
                        "schema_hash": "pg-rowhash-sum-v1:" + "0" * 64}
    path.write_text(json.dumps(data))
    old = load_manifest(tmp_path / "backups", "production", manifest.id)
    assert old.pg_schemas is None and old.snapshot.sequences is None

    with pg_server.connect(name) as conn:
        conn.execute(PG_CHANGE)  # type: ignore[arg-type]
    snap = restore_backup(old, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert snap.tables == old.snapshot.tables and snap.checksums == old.snapshot.checksums
    assert pg_contents(pg_server, name) == before


def test_manifest_from_dict_is_inverse(tmp_path: Path, sqlite_db: tuple[Path, str]) -> None:
    _, url = sqlite_db
    manifest = create_backup(**backup_kwargs(url, tmp_path))
    assert BackupManifest.from_dict(json.loads(json.dumps(manifest.to_dict()))) == manifest


# --- a realistic PostgreSQL database, restored as its non-superuser owner -----------------------


@pytest.fixture
def traits_db(pg_server: PostgresServer, traits_template_db: str) -> Iterator[tuple[str, str]]:
    """A clone of the traits database (harness.traits) and the owner role's URL to it."""
    name = traits.clone_traits(pg_server, traits_template_db)
    try:
        yield name, traits.owner_url(pg_server, name)
    finally:
        pg_server.drop_database(name)


def changed_keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


@pytest.mark.postgres
def test_pg_traits_database_is_owned_by_a_role_that_is_no_superuser(
    pg_server: PostgresServer, traits_db: tuple[str, str]
) -> None:
    """The premise of the tests below: extensions in public made by the superuser, every other
    object (and the database) the owner's, who has no superuser, CREATEDB or CREATEROLE."""
    name, _ = traits_db
    with pg_server.admin_connection(name) as conn:
        assert conn.execute("SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
                            "WHERE rolname = %s", [traits.OWNER]).fetchone() == (False, False, False, False)
        assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                            [name]).fetchone() == (traits.OWNER,)
        extensions = dict(conn.execute("SELECT extname, extnamespace::regnamespace::text || ' ' || "
                                       "pg_get_userbyid(extowner) FROM pg_extension").fetchall())
        assert {e: extensions[e] for e in traits.EXTENSIONS} == {e: "public postgres" for e in traits.EXTENSIONS}
        owners = {r[0] for r in conn.execute(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'audit') AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')").fetchall()}
        assert owners == {traits.OWNER}


@pytest.mark.postgres
@pytest.mark.parametrize("trait", sorted(traits.TRAIT_CHANGES))
def test_pg_backup_change_restore_gives_back_every_trait_as_the_owner(
    tmp_path: Path, pg_server: PostgresServer, traits_db: tuple[str, str], trait: str
) -> None:
    name, url = traits_db
    before = traits.exact_state(pg_server, name)
    manifest = create_backup(**backup_kwargs(url, tmp_path, "postgresql"), schemas=["audit", "billing"])
    assert manifest.pg_schemas == ["public", "audit", "billing"]
    assert {"User", "Post", "_prisma_migrations", 'audit."Event"'} <= set(manifest.snapshot.tables)
    assert manifest.snapshot.extensions is not None and "pgcrypto" in manifest.snapshot.extensions

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(traits.TRAIT_CHANGES[trait])  # type: ignore[arg-type]
    assert changed_keys(before, traits.exact_state(pg_server, name)), "the change changed nothing"
    with PostgresDatabase(parse_postgres_url(url)) as db:
        assert diff_snapshots(manifest.snapshot, take_snapshot(db, ["audit", "billing"]))

    snap = restore_backup(manifest, url=url, schema_dir=tmp_path, backup_dir=tmp_path / "backups")
    assert diff_snapshots(manifest.snapshot, snap) == []
    assert changed_keys(before, traits.exact_state(pg_server, name)) == []
