"""Connection URLs and passwords never appear anywhere: every command, run against a real PostgreSQL
with the password in the URL (and with a wrong one), then stdout, stderr, the audit log, backup
manifests, crash logs and every other file faber-db wrote are scanned."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from faber import FaberRun, describe, error_code, parse_single_json, run_faber, write_config
from harness import FABER_PASSWORD, PostgresServer, PrismaProject
from psycopg import sql

pytestmark = pytest.mark.postgres

BOGUS_PASSWORD = "bogus-PW-77x-Zq"
SPECIAL_USER = "faber_special"
SPECIAL_PASSWORD = "p@ss:w/rd?#%&=Zq9"
NICKNAME_MODELS = """\
model User {
  id       Int     @id @default(autoincrement())
  email    String  @unique
  name     String?
  nickname String?
}
"""


class Recorder:
    """Runs faber-db and keeps everything it printed."""

    def __init__(self, project: PrismaProject, state: Path, env: dict[str, str]) -> None:
        self.project = project
        self.state = state
        self.env = env
        self.runs: list[FaberRun] = []

    def __call__(self, *args: str, **env: str) -> dict[str, Any]:
        run = run_faber(self.project.root, *args, env={"CLAUDE_PLUGIN_DATA": str(self.state), **self.env, **env},
                        timeout=180)
        self.runs.append(run)
        return parse_single_json(run.stdout) if run.stdout.strip().startswith("{") else {}

    def leaks(self, secrets: list[str]) -> list[str]:
        found = []
        for run in self.runs:
            for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
                for secret in secrets:
                    if secret in text:
                        found.append(f"faber-db {' '.join(run.args)}: {stream} has {secret!r}")
        for root in (self.project.root, self.state):
            for dirpath, _, filenames in os.walk(root):  # does not follow the node_modules symlink
                for name in filenames:
                    path = Path(dirpath) / name
                    data = path.read_bytes()
                    for secret in secrets:
                        if secret.encode() in data:
                            found.append(f"{path}: has {secret!r}")
        return found


def _commands_in_help(project: PrismaProject) -> set[str]:
    run = run_faber(project.root, "--help")
    block = run.stdout.split("COMMAND", 2)[-1].split("options:", 1)[0]
    return set(re.findall(r"^    ([a-z][a-z-]*)\s", block, re.M))


def _secrets(url: str, password: str, user: str = "faber") -> list[str]:
    return [password, quote(password, safe=""), f"{user}:{password}", url]


def test_no_command_prints_or_writes_the_password(
    pg_deployed_project: PrismaProject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = pg_deployed_project
    assert project.database_url is not None and FABER_PASSWORD in project.database_url
    url = project.database_url
    state = tmp_path_factory.mktemp("plugin-data")
    faber = Recorder(project, state, {"DEV_DATABASE_URL": url, "STAGING_DATABASE_URL": url,
                                      "PROD_DATABASE_URL": url})
    covered: set[str] = set()

    def run(*args: str, **env: str) -> dict[str, Any]:
        covered.add(args[0])
        return faber(*args, **env)

    assert run("init")["status"] in ("success", "warning")
    assert run("status", "dev")["details"]["applied"] == ["20240101000000_init"]
    project.write_schema(NICKNAME_MODELS)
    preview = run("generate-migration", "add nickname", "--preview")
    assert preview.get("details", {}).get("changes") is True, describe(preview)
    generated = run("generate-migration", "add nickname")
    assert generated.get("status") in ("success", "warning"), describe(generated)
    dry = run("migrate", "dev", "--dry-run")
    assert dry["status"] in ("success", "warning"), describe(dry)
    applied = run("migrate", "dev", "--backup")
    assert applied["status"] in ("success", "warning"), describe(applied)
    assert applied["details"]["backup"] is not None, "a backup manifest must exist to be scanned"
    backup = run("backup", "dev")
    backup_id = (backup.get("details") or {}).get("backup", {}).get("id", "none")
    run("backups", "dev")
    run("health-check", "dev")
    run("db-create", "dev")
    run("restore", "dev", "--from", backup_id, "--dry-run")
    run("restore", "dev", "--from", backup_id)
    run("rollback", "dev", "--dry-run")
    run("rollback", "dev", "--last", "1")
    plan = run("migrate", "production", "--dry-run")
    plan_id = ((plan.get("details") or {}).get("plan") or {}).get("plan_id", "none")
    run("migrate", "production", "--approve", plan_id)
    # a migration that fails midway: Prisma's error output comes back through faber-db
    project.add_migration("20991231000000_broken", 'ALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n')
    failed = run("migrate", "dev", "--backup")
    assert failed["status"] == "failure", describe(failed)
    run("faber", "build", "--work-id", "42")
    run("audit")
    run("audit", "--verify")

    # wrong password: every command that connects fails; its error must not echo the URL either
    bogus = url.replace(FABER_PASSWORD, BOGUS_PASSWORD)
    wrong = {"DEV_DATABASE_URL": bogus, "STAGING_DATABASE_URL": bogus, "PROD_DATABASE_URL": bogus}
    code = None
    for args in (("status", "dev"), ("migrate", "dev", "--dry-run"), ("migrate", "dev"),
                 ("generate-migration", "another", "--preview"), ("health-check", "dev"), ("backup", "dev"),
                 ("db-create", "dev"), ("restore", "dev", "--from", backup_id), ("rollback", "dev", "--last", "1"),
                 ("migrate", "production", "--dry-run"), ("faber", "evaluate")):
        result = faber(*args, **wrong)
        if args == ("status", "dev"):
            code = error_code(result)
            assert faber.runs[-1].returncode == 1, describe(result)
    assert code == "DATABASE_UNREACHABLE"

    missing = _commands_in_help(project) - covered
    assert not missing, f"new commands to add to this test: {sorted(missing)}"
    audit = project.root / ".fractary/plugins/faber-db/audit.jsonl"
    assert audit.is_file() and audit.read_text().strip(), "the audit log must exist to be scanned"
    assert list((project.root / ".fractary/plugins/faber-db/backups").rglob("*")), "backups to scan"
    assert faber.runs and all(r.stdout.strip() for r in faber.runs)

    leaks = faber.leaks([*_secrets(url, FABER_PASSWORD), *_secrets(bogus, BOGUS_PASSWORD)])
    assert not leaks, "\n".join(leaks)


@pytest.fixture
def special_user(pg_server: PostgresServer) -> str:
    """A role whose password needs percent-encoding in a URL."""
    with pg_server.admin_connection() as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(SPECIAL_USER)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
            sql.Identifier(SPECIAL_USER), sql.Literal(SPECIAL_PASSWORD)))
    return SPECIAL_USER


def test_percent_encoded_password_is_not_printed(
    pg_deployed_project: PrismaProject, pg_server: PostgresServer, special_user: str,
    tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = pg_deployed_project
    assert project.database_name is not None
    url = pg_server.url(project.database_name, user=special_user, password=SPECIAL_PASSWORD)
    assert quote(SPECIAL_PASSWORD, safe="") in url
    write_config(project.root, "postgresql")
    state = tmp_path_factory.mktemp("plugin-data")
    faber = Recorder(project, state, {"DEV_DATABASE_URL": url})
    result = faber("status", "dev")
    assert faber.runs[-1].returncode == 0, describe(result, faber.runs[-1].stderr)
    faber("migrate", "dev", "--dry-run")
    faber("migrate", "dev", "--backup")
    faber("health-check", "dev")
    wrong_pw = SPECIAL_PASSWORD[::-1]
    bad = url.replace(quote(SPECIAL_PASSWORD, safe=""), quote(wrong_pw, safe=""))
    result = faber("status", "dev", DEV_DATABASE_URL=bad)
    assert error_code(result) == "DATABASE_UNREACHABLE", describe(result)
    faber("migrate", "dev", DEV_DATABASE_URL=bad)
    leaks = faber.leaks([*_secrets(url, SPECIAL_PASSWORD, special_user), *_secrets(bad, wrong_pw, special_user)])
    assert not leaks, "\n".join(leaks)
