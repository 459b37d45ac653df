"""Input that cannot hurt (issue #13 item 4): passwords and password-shaped text never break a result
or an audit line and never leak; links out of the project and huge files are refused unread; config
values that would break faber-db are refused naming the key. Real CLI, real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from faber import error_code, run_faber, write_config
from harness import PostgresServer, PrismaProject

AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")


def _role(server: PostgresServer, user: str, password: str) -> None:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{user}"')  # type: ignore[arg-type]
        conn.execute(f"CREATE ROLE \"{user}\" LOGIN SUPERUSER PASSWORD '{password.replace(chr(39), chr(39) * 2)}'"
                     )  # type: ignore[arg-type]


@pytest.mark.postgres
@pytest.mark.parametrize(("user", "password", "style"), [
    ("letter_e", "e", "userinfo"),
    ("word_pw", "postgres", "userinfo"),
    ("at_sign", "p@ss:w/rd\"{}", "userinfo"),
    ("query_pw", "qp-S3cret-77", "query"),
], ids=["one-letter", "common-word", "json-and-url-characters", "password-in-query"])
def test_any_password_leaves_valid_json_a_sound_audit_and_no_leak(
        pg_deployed_project: PrismaProject, pg_server: PostgresServer, user: str, password: str, style: str) -> None:
    from urllib.parse import quote

    project = pg_deployed_project
    assert project.database_name is not None
    _role(pg_server, user, password)
    base = f"127.0.0.1:{pg_server.port}/{project.database_name}"
    url = (f"postgresql://{user}:{quote(password, safe='')}@{base}" if style == "userinfo"
           else f"postgresql://{user}@{base}?password={quote(password, safe='')}")
    write_config(project.root, "postgresql", environments={"production": {"url_env": "PROD_DATABASE_URL",
                                                                          "protected": True}})
    # password-shaped text in SQL, a label and a migration name: the JSON around it stays intact
    project.add_migration("20240102000000_password_reset",
                          "ALTER TABLE \"User\" ADD COLUMN \"note\" TEXT DEFAULT 'password=\"x\" \\ {\"a\":1}';\n")
    env = {"PROD_DATABASE_URL": url}
    outputs: list[str] = []
    for args in (["status", "production"], ["migrate", "production", "--dry-run"],
                 ["backup", "production", "--label", 'password="hunter2" \\ "}'], ["migrate", "production"]):
        done = run_faber(project.root, *args, env=env)
        result = done.checked()  # exactly one valid JSON object
        assert done.returncode in (0, 3), (args, result)
        outputs += [done.stdout, done.stderr]
    lines = (project.root / AUDIT).read_text("utf-8").splitlines()
    assert [json.loads(line)["operation"] for line in lines] == ["backup", "migrate"]
    verified = run_faber(project.root, "audit", "--verify", env=env).checked()
    assert verified["details"]["verified"] is True, verified
    everything = "\n".join([*outputs, *lines])
    assert url not in everything
    for shape in (f":{password}@", f":{quote(password, safe='')}@", f"password={password}",
                  f"password={quote(password, safe='')}"):
        assert shape not in everything, shape
    if len(password) >= 4:  # as a word of its own (the `postgres` inside "postgresql" is not the password)
        assert not re.search(rf"(?<!\w){re.escape(password)}(?!\w)", everything), password


def test_a_migration_linked_out_of_the_project_is_refused_unread(sqlite_deployed_project: PrismaProject,
                                                                 tmp_path: Path) -> None:
    project = sqlite_deployed_project
    secret = tmp_path.parent / f"{tmp_path.name}-outside.sql"
    secret.write_text("-- TOP SECRET CONTENT\nDROP TABLE \"User\";\n")
    folder = project.migrations_dir / "20240102000000_linked"
    folder.mkdir()
    (folder / "migration.sql").symlink_to(secret)
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "DEV_DATABASE_URL"}})
    for args in (["status", "dev"], ["migrate", "dev", "--dry-run"], ["migrate", "dev"]):
        done = run_faber(project.root, *args, env={"DEV_DATABASE_URL": project.database_url or ""})
        result = done.checked()
        assert done.returncode == 2 and error_code(result) == "UNSAFE_PATH", (args, result)
        assert "TOP SECRET" not in done.stdout + done.stderr
    assert "User" in {r[0] for r in _sqlite_tables(project)}


def _sqlite_tables(project: PrismaProject) -> list[Any]:
    import sqlite3

    assert project.database_path is not None
    with sqlite3.connect(project.database_path) as conn:
        return conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()


def test_a_huge_migration_is_refused_quickly_not_parsed(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    line = "INSERT INTO \"User\" (email) VALUES ('someone@example.com');\n"
    project.add_migration("20240102000000_bulk", line * (100 * 1024 * 1024 // len(line)))
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "DEV_DATABASE_URL"}})
    done = run_faber(project.root, "migrate", "dev", "--dry-run", env={"DEV_DATABASE_URL": project.database_url or ""},
                     timeout=60)
    result = done.checked()
    assert done.returncode == 2 and error_code(result) == "FILE_TOO_LARGE", result
    assert "MB" in result["message"]


@pytest.mark.parametrize(("section", "values", "key"), [
    ("backup", {"keep_count": -1}, "backup.keep_count"),
    ("backup", {"keep_days": -5}, "backup.keep_days"),
    ("backup", {"compression": 12}, "backup.compression"),
    ("prisma", {"timeout_seconds": 0}, "prisma.timeout_seconds"),
    ("prisma", {"timeout_seconds": 10**15}, "prisma.timeout_seconds"),
    ("safety", {"lock_wait_seconds": -1}, "safety.lock_wait_seconds"),
    ("safety", {"max_auto_rollback_attempts": -2}, "safety.max_auto_rollback_attempts"),
    ("safety", {"plan_ttl_hours": 0}, "safety.plan_ttl_hours"),
    ("backup", {"directory": "/var/tmp/elsewhere"}, "backup.directory"),
    ("backup", {"directory": "../../outside"}, "backup.directory"),
])
def test_hostile_config_values_are_refused_naming_the_key(sqlite_deployed_project: PrismaProject,
                                                          section: str, values: dict[str, Any], key: str) -> None:
    import tomli_w

    project = sqlite_deployed_project
    path = write_config(project.root, "sqlite", environments={"dev": {"url_env": "DEV_DATABASE_URL"}})
    path.write_text(path.read_text() + "\n" + tomli_w.dumps({section: values}))
    done = run_faber(project.root, "status", "dev", env={"DEV_DATABASE_URL": project.database_url or ""})
    result = done.checked()
    assert done.returncode == 2 and error_code(result) == "CONFIG_INVALID", result
    assert key in result["message"], result


def test_an_absolute_backup_folder_is_fine_when_asked_for(sqlite_deployed_project: PrismaProject,
                                                          tmp_path: Path) -> None:
    import tomli_w

    project = sqlite_deployed_project
    folder = tmp_path.parent / f"{tmp_path.name}-backups"
    path = write_config(project.root, "sqlite", environments={"dev": {"url_env": "DEV_DATABASE_URL"}})
    path.write_text(path.read_text() + "\n" + tomli_w.dumps(
        {"backup": {"directory": str(folder), "allow_outside_project": True}}))
    done = run_faber(project.root, "backup", "dev", env={"DEV_DATABASE_URL": project.database_url or ""})
    assert done.returncode == 0, done
    assert list((folder / "dev").glob("*.json"))


def test_what_a_killed_backup_left_is_removed_by_the_next_one(sqlite_deployed_project: PrismaProject) -> None:
    """kill -9 during a backup leaves its temp file (or a file whose manifest was never written);
    the next backup, under the same lock, removes it, and keeps every real backup."""
    import signal
    import subprocess
    import time

    from faber import faber_argv, faber_env

    project = sqlite_deployed_project
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "DEV_DATABASE_URL"}})
    env = {"DEV_DATABASE_URL": project.database_url or ""}
    first = run_faber(project.root, "backup", "dev", env=env).checked()
    import sqlite3

    assert project.database_path is not None
    with sqlite3.connect(project.database_path) as conn:  # enough rows that the copy takes a moment
        conn.executemany('INSERT INTO "User" (email, name) VALUES (?, ?)',
                         ((f"u{i}@example.com", "x" * 200) for i in range(200_000)))
    folder = project.root / ".fractary/plugins/faber-db/backups/dev"
    process = subprocess.Popen([*faber_argv(), "backup", "dev"], cwd=project.root, env=faber_env(env),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(folder.glob(".*.tmp")) and process.poll() is None:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    # whatever the kill left, plus a backup file whose manifest was never written
    (folder / "20200101T000000Z-dead.sqlite").write_bytes(b"half a backup")
    (folder / ".20200101T000000Z-beef.sqlite.tmp").write_bytes(b"a temp file")
    second = run_faber(project.root, "backup", "dev", env=env).checked()
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.endswith(".tmp") or n.endswith(".probe")], names
    assert "20200101T000000Z-dead.sqlite" not in names
    for result in (first, second):
        backup_id = result["details"]["backup"]["id"]
        assert f"{backup_id}.json" in names and f"{backup_id}.sqlite" in names
