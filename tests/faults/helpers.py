"""Shared pieces of the fault suite: the project (User + Post, real Prisma), seeding, exact
snapshots of a database (schema, every row, sequences, the history table), and `faber-db` runs in
the foreground or in the background (with its progress lines read as they come)."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w
from faber import faber_argv, faber_env, parse_single_json, run_faber
from harness import DEFAULT_MODELS, PrismaProject, migration_rows, pg_query

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

INIT = "20240101000000_init"

FAULT_MODELS = DEFAULT_MODELS + """
model Post {
  id       Int    @id @default(autoincrement())
  title    String
  score    Int    @default(0)
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])

  @@index([authorId])
}
"""
# Prisma wants the back relation on User too.
FAULT_MODELS = FAULT_MODELS.replace("  name  String?\n}", "  name  String?\n  posts Post[]\n}", 1)

CONFIG = Path(".fractary/plugins/faber-db/config.toml")
LOCKS = Path(".fractary/plugins/faber-db/locks")
AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")

USERS = 30
POSTS = 60


# --- setting a project up ---------------------------------------------------------------------------


def faber_urls(project: PrismaProject) -> dict[str, str]:
    """All three environments on the project's one database."""
    assert project.database_url is not None
    url = project.database_url
    return {"DEV_DATABASE_URL": url, "STAGING_DATABASE_URL": url, "PROD_DATABASE_URL": url}


def init_faber(project: PrismaProject, **sections: dict[str, Any]) -> dict[str, str]:
    """`faber-db init`, then merge `sections` (e.g. backup={...}, safety={...}) into config.toml."""
    env = faber_urls(project)
    code, result, _ = run_faber(project.root, "init", env=dict(env))
    assert code == 0, result
    if sections:
        path = project.root / CONFIG
        data = tomllib.loads(path.read_text("utf-8"))
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        path.write_text(tomli_w.dumps(data), "utf-8")
    return env


def execute(project: PrismaProject, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    if project.provider == "sqlite":
        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn:
            for sql_text, params in statements:
                conn.execute(sql_text, params)
            conn.commit()
        return
    import psycopg

    assert project.database_url is not None
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        for sql_text, params in statements:
            if params:
                conn.execute(sql_text.replace("?", "%s"), params)  # type: ignore[arg-type]
            else:
                conn.execute(sql_text)  # type: ignore[arg-type]


def seed(project: PrismaProject, users: int = USERS, posts: int = POSTS) -> None:
    """users User rows (every third name NULL) and posts Post rows (titles repeat, scores 0..9),
    generated inside the database (fast at any size)."""
    if project.provider == "sqlite":
        def numbers(n: int) -> str:
            return f"WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {n - 1}) "
        user_sql = ('INSERT INTO "User" ("email", "name") ' + numbers(users) +
                    "SELECT 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN NULL "
                    "ELSE 'User ' || i || ' - ü' END FROM c")
        post_sql = ('INSERT INTO "Post" ("title", "score", "authorId") ' + numbers(posts) +
                    f"SELECT 'post ' || (i % 20), i % 10, (SELECT min(\"id\") FROM \"User\") + i % {users} FROM c")
    else:
        user_sql = ('INSERT INTO "User" ("email", "name") '
                    "SELECT 'user' || i || '@example.com', CASE WHEN i % 3 = 0 THEN NULL "
                    f"ELSE 'User ' || i || ' - ü' END FROM generate_series(0, {users - 1}) AS i")
        post_sql = ('INSERT INTO "Post" ("title", "score", "authorId") '
                    f"SELECT 'post ' || (i % 20), i % 10, (SELECT min(\"id\") FROM \"User\") + i % {users} "
                    f"FROM generate_series(0, {posts - 1}) AS i")
    statements: list[tuple[str, tuple[Any, ...]]] = []
    if users:
        statements.append((user_sql, ()))
    if posts and users:
        statements.append((post_sql, ()))
    execute(project, statements)


# --- reading a database exactly -------------------------------------------------------------------------


def snapshot(project: PrismaProject) -> dict[str, Any]:
    """Schema (catalog), sequences, and every table's rows, _prisma_migrations included."""
    if project.provider == "sqlite":
        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn:
            schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                  "WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY type, name").fetchall()
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sqlite_stat1') "
                "ORDER BY name")]
            data = {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
        return {"schema": schema, "data": data}
    assert project.database_url is not None
    url = project.database_url
    catalog = {
        "columns": "SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default "
                   "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 3",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
        "constraints": "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS d "
                       "FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        "triggers": "SELECT tgrelid::regclass::text AS t, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2",
        "functions": "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
        "sequences": "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
        "types": "SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e' "
                 "ORDER BY 1",
    }
    snap: dict[str, Any] = {name: pg_query(url, q) for name, q in catalog.items()}
    tables = [r["table_name"] for r in pg_query(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
             "AND table_type = 'BASE TABLE' ORDER BY table_name")]
    snap["data"] = {t: sorted(repr(tuple(r.values())) for r in pg_query(url, f'SELECT * FROM "{t}"'))
                    for t in tables}
    return snap


def seeded_rows(project: PrismaProject) -> dict[str, list[tuple[Any, ...]]]:
    """The committed rows the tests protect: every User and Post row (original columns only)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, cols in (("User", '"id", "email", "name"'), ("Post", '"id", "title", "score", "authorId"')):
        rows = query_rows(project, f'SELECT {cols} FROM "{table}" ORDER BY "id"')
        out[table] = [tuple(r.values()) for r in rows]
    return out


def query_rows(project: PrismaProject, sql_text: str) -> list[dict[str, Any]]:
    if project.provider == "sqlite":
        assert project.database_path is not None
        with closing(sqlite3.connect(project.database_path)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql_text).fetchall()]
    assert project.database_url is not None
    return pg_query(project.database_url, sql_text)


def history(project: PrismaProject) -> list[dict[str, Any]]:
    try:
        return migration_rows(project)
    except Exception:  # no history table yet
        return []


def finished_names(project: PrismaProject) -> list[str]:
    return sorted(r["migration_name"] for r in history(project)
                  if r["finished_at"] is not None and r["rolled_back_at"] is None)


def unfinished_names(project: PrismaProject) -> list[str]:
    return sorted(r["migration_name"] for r in history(project)
                  if r["finished_at"] is None and r["rolled_back_at"] is None)


def errcode(result: dict[str, Any]) -> str | None:
    errors = result.get("errors") or []
    return errors[0]["code"] if errors else None


def faber(project: PrismaProject, env: dict[str, str], *args: str,
          timeout: float = 180) -> tuple[int, dict[str, Any], str]:
    """`faber-db args` (one JSON object on stdout and no traceback, checked)."""
    code, result, stderr = run_faber(project.root, *args, env=dict(env), timeout=timeout)
    return code, result, stderr


def approve_args(project: PrismaProject, env: dict[str, str], environment: str = "production") -> list[str]:
    """`--approve <plan id of a fresh dry run>`."""
    code, result, _ = faber(project, env, "migrate", environment, "--dry-run")
    assert code == 0, json.dumps(result, indent=1)
    return ["--approve", result["details"]["plan"]["plan_id"]]


# --- background runs ---------------------------------------------------------------------------------------


@dataclass
class Background:
    """A `faber-db` process in its own session; stderr lines are timestamped as they arrive."""

    process: subprocess.Popen[str]
    lines: queue.Queue[tuple[float, str]] = field(default_factory=queue.Queue)
    seen: list[tuple[float, str]] = field(default_factory=list)
    _stderr: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, project: PrismaProject, env: dict[str, str], *args: str) -> Background:
        process = subprocess.Popen(
            [*faber_argv(), *args], cwd=project.root, env=faber_env(dict(env)), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        run = cls(process)
        run._reader = threading.Thread(target=run._read, daemon=True)
        run._reader.start()
        return run

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, needle: str, timeout: float = 60) -> float | None:
        """The arrival time of the first stderr line containing needle (None if the process ended first)."""
        for stamp, line in self.seen:
            if needle in line:
                return stamp
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                stamp, line = self.lines.get(timeout=0.05)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    return None
                continue
            self.seen.append((stamp, line))
            if needle in line:
                return stamp
        raise AssertionError(f"no {needle!r} on stderr within {timeout} s: {self.stderr_text()}")

    def wait_child_done(self, timeout: float = 120) -> bool:
        """Wait until a child process (Prisma) has appeared and exited again; False if faber-db ended first."""
        deadline = time.monotonic() + timeout
        had_child = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            children = descendants(self.process.pid)
            if children:
                had_child = True
            elif had_child:
                return True
            time.sleep(0.003)
        raise AssertionError(f"no child process came and went within {timeout} s")

    def stderr_text(self) -> str:
        return "".join(self._stderr)

    def kill(self) -> bool:
        """kill -9 of the faber-db process only (its Prisma child runs in a session of its own, as it
        would after a real kill). True when the process was still running."""
        alive = self.process.poll() is None
        if alive:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        return alive

    def finish(self, timeout: float = 180) -> tuple[int, dict[str, Any], str]:
        assert self.process.stdout is not None
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                os.kill(self.process.pid, signal.SIGKILL)
        stdout = self.process.stdout.read()
        if self._reader is not None:
            self._reader.join(timeout=10)
        stderr = self.stderr_text()
        assert "Traceback (most recent call last)" not in stdout + stderr, stdout + stderr
        return self.process.returncode, parse_single_json(stdout), stderr


def descendants(pid: int) -> list[int]:
    """Live processes whose parent chain reaches pid (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, pp in parents.items() if pp == current]
        out += children
        frontier += children
    return out


def processes_in(root: Path) -> list[int]:
    """Live processes (Prisma, pg tools, faber-db) working in the project folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == root.resolve():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_until_gone(root: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while processes_in(root):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes still working in {root}: {processes_in(root)}")
        time.sleep(0.05)
