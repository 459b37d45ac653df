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


def faber(project: Path, env: dict[str, str], *args: str, expect: int = 0) -> dict[str, Any]:
    """Run faber-db (JSON out, as an agent would), show it as a person would see it, check the exit code."""
    print(f"\n$ faber-db {' '.join(args)}")
    done = subprocess.run(["faber-db", *args], cwd=project, env=env, text=True, capture_output=True,
                          stdin=subprocess.DEVNULL)
    result: dict[str, Any] = json.loads(done.stdout)
    print(render_dict(result))
    if done.returncode != expect:
        sys.exit(f"demo: `faber-db {' '.join(args)}` exited {done.returncode}, expected {expect}")
    return result


def main() -> int:
    target = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO / ".demo"
    if target.exists():
        shutil.rmtree(target)
    project = target / "project"
    make_project(project, "sqlite", "", ensure_kit())
    shutil.copy(EXAMPLE / "schema.v1.prisma", project / "prisma" / "schema.prisma")
    data = target / "databases"
    data.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env.update(DEV_DATABASE_URL=f"file:{data / 'dev.db'}", STAGING_DATABASE_URL=f"file:{data / 'staging.db'}",
               PROD_DATABASE_URL=f"file:{data / 'prod.db'}", CLAUDE_PLUGIN_DATA=str(target / "plugin-data"),
               FABER_DB_QUIET="1", NO_COLOR="1")
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
    print(f"\ndemo: done. The project is in {project}; try `cd {project}` and any faber-db command "
          "(the URLs are in the env vars shown at the top of scripts/demo.py).")
    return 0


def _plan(project: Path, env: dict[str, str]) -> str:
    result = faber(project, env, "migrate", "production", "--dry-run")
    return str(result["details"]["plan"]["plan_id"])


if __name__ == "__main__":
    sys.exit(main())
