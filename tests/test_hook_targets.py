"""Raw database tools aimed at a protected environment's server, database or file: psql, pg_restore,
dropdb and sqlite3 are asked about when they name production's host and database (as a URL, a
conninfo string, -h/-d, PGHOST), and left alone against dev. The hook core is called in-process
with the URLs in its environment, as Claude Code passes its own environment to hooks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from faber_db.gate import hook_output

ENVIRON = {"PATH": "/usr/bin:/bin", "PROD_DATABASE_URL": "postgresql://app:secret@db.prod.internal:5432/shop",
           "DEV_DATABASE_URL": "postgresql://app:secret@localhost:5432/shop_dev"}


def reason(command: str, cwd: Path, environ: dict[str, str] = ENVIRON) -> str | None:
    payload = {"tool_name": "Bash", "tool_input": {"command": command, "description": "x"}, "cwd": str(cwd)}
    answer = hook_output(json.dumps(payload).encode(), environ, time.monotonic())
    return None if answer is None else str(answer["hookSpecificOutput"]["permissionDecisionReason"])


@pytest.mark.parametrize("command", [
    "psql -h db.prod.internal -d shop -c 'DELETE FROM orders'",
    "psql postgresql://app@db.prod.internal:5432/shop -f fix.sql",
    "psql --host=db.prod.internal --dbname=shop",
    "psql -d 'host=db.prod.internal dbname=shop'",
    "PGHOST=db.prod.internal psql shop",
    "export PGHOST=db.prod.internal; psql shop",
    "pg_restore --clean -h db.prod.internal -d shop backup.dump",
    "pg_dump -h localhost shop_dev | psql -h db.prod.internal shop",
    "dropdb -h db.prod.internal shop",
])
def test_tools_aimed_at_the_protected_server_are_asked(command: str, tmp_path: Path) -> None:
    why = reason(command, tmp_path)
    assert why is not None and "db.prod.internal" in why
    assert "secret" not in why  # the URL's password never reaches the reason


@pytest.mark.parametrize("command", [
    "psql -h localhost -d shop_dev -c 'select 1'",
    "psql shop_dev",
    "psql -h localhost -d shop",  # the same database name on another server
    "pg_dump -h db.prod.internal shop > /tmp/prod.dump",  # reading production is not changing it
])
def test_tools_aimed_elsewhere_are_left_alone(command: str, tmp_path: Path) -> None:
    assert reason(command, tmp_path) is None


def test_a_protected_sqlite_file_is_recognised(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma/schema.prisma").write_text("x", "utf-8")
    environ = {"PATH": "/usr/bin:/bin", "PROD_DATABASE_URL": "file:./data/prod.db"}
    why = reason("sqlite3 prisma/data/prod.db 'DELETE FROM User'", tmp_path, environ)
    assert why is not None and "database file" in why
    assert reason("sqlite3 prisma/data/dev.db .tables", tmp_path, environ) is None
