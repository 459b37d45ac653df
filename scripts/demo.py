#!/usr/bin/env python3
"""The faber-db demo on the embedded default (SQLite): a sample Prisma project in .demo/ (or DIR),
taken through init → generate → migrate dev → dry run → approved production deploy → a failing
migration restored automatically → rollback → backups → health check → audit verify.

Each step runs the real `faber-db` command, shows its text rendering, and checks its JSON.
The Prisma CLI is the real one (6.15, from the project's npm kit in tests/kit).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from faber_db.render import render_dict  # noqa: E402
from harness import ensure_kit, make_project  # noqa: E402  (the project's own Prisma kit)

EXAMPLE = REPO / "examples" / "demo"


def faber_db() -> str:
    """The `faber-db` command scripts/setup installed beside this Python (a venv's or pyenv's bin/, which
    need not be on PATH), else the one on PATH."""
    beside = Path(sys.executable).parent / "faber-db"
    found = str(beside) if beside.is_file() else shutil.which("faber-db")
    if found is None:
        sys.exit("demo: no faber-db command; run scripts/setup (or pip install -e .) first")
    return found


def faber(project: Path, env: dict[str, str], *args: str, expect: int = 0) -> dict[str, Any]:
    """Run faber-db in the project (JSON out, as an agent would), show it as a person would see it, check
    the exit code. `--project .` names the project: inside a git checkout (.demo/ is in this one) the
    project would otherwise be looked for at the git root."""
    command = [*args, "--project", "."]
    print(f"\n$ faber-db {shlex.join(command)}")
    done = subprocess.run([faber_db(), *command], cwd=project, env=env, text=True, capture_output=True,
                          stdin=subprocess.DEVNULL)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        sys.exit(f"demo: `faber-db {shlex.join(command)}` printed no JSON result (exit {done.returncode}):\n"
                 f"{done.stdout}{done.stderr}")
    print(render_dict(result))
    if done.returncode != expect:
        sys.exit(f"demo: `faber-db {' '.join(args)}` exited {done.returncode}, expected {expect}")
    return result


def main() -> int:
    target = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO / ".demo"  # DIR: from the caller's cwd
    if target.exists():
        shutil.rmtree(target)
    project = target / "project"
    make_project(project, "sqlite", "", ensure_kit())
    shutil.copy(EXAMPLE / "schema.v1.prisma", project / "prisma" / "schema.prisma")
    data = target / "databases"
    data.mkdir(parents=True)
    urls = {"DEV_DATABASE_URL": f"file:{data / 'dev.db'}", "STAGING_DATABASE_URL": f"file:{data / 'staging.db'}",
            "PROD_DATABASE_URL": f"file:{data / 'prod.db'}", "CLAUDE_PLUGIN_DATA": str(target / "plugin-data")}
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env.update(urls, FABER_DB_QUIET="1", NO_COLOR="1")
    env.pop("CLAUDE_DB_CWD", None)

    print(f"faber-db demo in {project} (SQLite; dev, staging and production databases in {data})")
    faber(project, env, "init")
    faber(project, env, "generate-migration", "create users")
    faber(project, env, "migrate", "dev")
    faber(project, env, "status", "dev")

    print("\n# The schema grows a Post model (examples/demo/schema.v2.prisma)")
    shutil.copy(EXAMPLE / "schema.v2.prisma", project / "prisma" / "schema.prisma")
    faber(project, env, "generate-migration", "add posts", "--preview")
    faber(project, env, "generate-migration", "add posts")
    faber(project, env, "migrate", "dev")

    print("\n# Production is protected: preview, then apply the approved plan")
    plan = _plan(project, env)
    faber(project, env, "migrate", "production", expect=3)
    faber(project, env, "migrate", "production", "--approve", plan)

    print("\n# A migration that fails halfway in production is restored automatically")
    import sqlite3

    with sqlite3.connect(data / "prod.db") as db:
        db.executemany('INSERT INTO "User" (email, name) VALUES (?, ?)', [(f"u{i}@example.com", "Sam") for i in
                                                                         range(25)])
    bad = project / "prisma" / "migrations" / "29990101000000_unique_names"
    bad.mkdir()
    (bad / "migration.sql").write_text('ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n'
                                       'CREATE UNIQUE INDEX "User_name_key" ON "User"("name");\n')
    plan = _plan(project, env)
    faber(project, env, "migrate", "production", "--approve", plan, "--allow-destructive", expect=1)
    shutil.rmtree(bad)
    faber(project, env, "status", "production")

    print("\n# Undo the last dev migration with its down.sql, then re-apply it")
    faber(project, env, "rollback", "dev", "--dry-run")
    faber(project, env, "rollback", "dev")
    faber(project, env, "migrate", "dev")

    faber(project, env, "backups", "production")
    faber(project, env, "health-check", "production")
    faber(project, env, "audit", "--verify")

    # what a person needs to go on by hand: the environments' URLs and the faber-db command, in a file
    env_file = target / "env.sh"
    env_file.write_text("# source me: the demo's environments (SQLite files) and its faber-db command\n"
                        + "".join(f"export {name}={shlex.quote(value)}\n" for name, value in urls.items())
                        + f"export PATH={shlex.quote(str(Path(faber_db()).parent))}:\"$PATH\"\n", "utf-8")
    print(f"\ndemo: done. The demo project is {project}; its databases are in {data}.")
    print("Go on by hand (any faber-db command; the URLs are in the file you source):")
    print(f"  . {shlex.quote(str(env_file))} && cd {shlex.quote(str(project))} && faber-db status production "
          "--project .")
    return 0


def _plan(project: Path, env: dict[str, str]) -> str:
    result = faber(project, env, "migrate", "production", "--dry-run")
    return str(result["details"]["plan"]["plan_id"])


if __name__ == "__main__":
    sys.exit(main())
