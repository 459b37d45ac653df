"""Every hint faber-db prints says something its message does not, and every command it suggests runs.

The real CLI is driven into a broad set of error situations (bad usage and config, missing URLs and
files, refusals of every kind, failed deploys, a tampered audit trail, a corrupt backup, an unreachable
database) on real Prisma projects and real SQLite. For each error of each result:

- the hint is not empty, not the message, and not a restatement of it: it does not contain the
  message (or the message it), it brings words of its own, and it does not send the reader to the
  suggested fixes (`MODIFIED_MIGRATION`'s old hint was "`faber-db status dev` shows the details; see
  suggested_fixes", and the suggested fix was that same sentence);
- a refusal of an approval (`APPROVAL_REQUIRED`, `PLAN_*`) names no plan id but the one given;
- every `faber-db ...` command in the hint or the suggested fixes is written in backticks, parses
  with the CLI's own argparse parser (placeholders such as `<id>` filled in), and is one the plugin's
  Markdown grants to the agent (`allowed-tools: Bash(faber-db <command>:*)`), so an agent can run it
  as written.

Then: no false "interrupted" warning. A deploy that failed (MIGRATION_FAILED) or failed its
verification (VERIFY_FAILED) was not interrupted: the next migrate must not say an earlier deploy was.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sqlite3
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from faber import error_code, run_faber
from faber_db.cli import build_parser
from faber_db.commands import COMMANDS
from faber_db.errors import ERROR_CODES, FaberError
from harness import PrismaProject
from lifecycle import CONFIG, Lifecycle, make_lifecycle

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "plugins" / "faber-db"
AUDIT = Path(".fractary/plugins/faber-db/audit.jsonl")
ADD_BIO = 'ALTER TABLE "User" ADD COLUMN "bio" TEXT;\n'
# fails midway on SQLite: the first statement runs, the second names a table that does not exist
FAILING = 'CREATE TABLE "Note" ("id" INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO "Nowhere" VALUES (1);\n'
# words that say nothing on their own (words of one or two letters are not counted at all)
STOPWORDS = frozenset({"the", "and", "for", "with", "from", "are", "was", "were", "been", "its", "this", "that",
                       "these", "those", "not", "nothing", "then", "than", "when", "what", "which", "who", "run",
                       "again"})


# --- what is checked --------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9_]+", text.lower()) if len(w) > 2 and w not in STOPWORDS]


def _normal(text: str) -> str:
    return " ".join(_words(text))


def granted_commands() -> set[str]:
    """The faber-db commands the plugin's Markdown grants the agent: `Bash(faber-db <command>:*)`."""
    grants: set[str] = set()
    for md in [*PLUGIN.glob("commands/*.md"), *PLUGIN.glob("skills/*/SKILL.md")]:
        head = md.read_text("utf-8").split("\n---\n", 1)[0]
        for line in head.splitlines():
            if line.startswith("allowed-tools:"):
                grants |= set(re.findall(r"Bash\(faber-db ([a-z-]+):\*\)", line))
    return grants


def suggested_commands(text: str) -> list[str]:
    """The faber-db commands a text suggests; each must be in backticks (an agent copies those)."""
    quoted = re.findall(r"`([^`]*)`", text)
    outside = re.sub(r"`[^`]*`", "", text)
    loose = re.findall(r"\bfaber-db (?:" + "|".join(map(re.escape, COMMANDS)) + r")\b", outside)
    assert not loose, f"a faber-db command outside backticks (an agent cannot tell where it ends): {text!r}"
    return [q for q in quoted if q.startswith("faber-db ")]


def check_command(command: str) -> None:
    """`command` parses with the CLI's own parser and the plugin grants it to the agent."""
    filled = re.sub(r"<[^>]+>", "x1", command)  # `--from <id>`, `--approve <plan id>`
    argv = shlex.split(filled)[1:]
    if argv == ["--help"]:
        return
    assert argv and argv[0] in COMMANDS, f"not a faber-db command: {command!r}"
    if "--help" in argv:  # argparse would print and exit: the command name is what can be wrong
        return
    try:
        build_parser(argv[0]).parse_args(argv)
    except FaberError as error:
        raise AssertionError(f"the suggested command does not parse: {command!r}: {error.message}") from None
    assert argv[0] in granted_commands(), (
        f"{command!r}: no command or skill grants `Bash(faber-db {argv[0]}:*)`, so an agent cannot run it as written")


def check_result(situation: str, result: dict[str, Any]) -> None:
    errors = result.get("errors") or []
    assert errors, f"{situation}: no error in {json.dumps(result)[:400]}"
    for error in errors:
        code, message, hint = error["code"], error["message"], error["hint"]
        where = f"{situation} ({code})"
        assert code in ERROR_CODES, where
        assert hint.strip(), f"{where}: no hint"
        for said in {message, result["message"]}:
            assert _normal(hint) != _normal(said), f"{where}: the hint is the message: {hint!r}"
            assert _normal(said) not in _normal(hint), f"{where}: the hint restates the message: {hint!r}"
            assert _normal(hint) not in _normal(said), f"{where}: the message already says the hint: {hint!r}"
        new = set(_words(hint)) - set(_words(message)) - set(_words(result["message"]))
        assert len(new) >= 2, f"{where}: the hint adds almost nothing to the message ({sorted(new)}): {hint!r}"
        assert not re.search(r"suggested[_ ]fix", hint, re.I), f"{where}: the hint points at the fixes: {hint!r}"
        for command in suggested_commands(hint):
            check_command(command)
    check_fixes(situation, result)


def check_fixes(situation: str, result: dict[str, Any]) -> None:
    """A suggested fix is a whole command (a dry run's `faber-db migrate production --approve ID`), or
    words whose commands are in backticks; either way each command runs as written."""
    for fix in result.get("suggested_fixes") or []:
        assert not re.search(r"suggested[_ ]fix", fix, re.I), f"{situation}: a fix points at the fixes: {fix!r}"
        whole = "`" not in fix and re.match(r"faber-db (" + "|".join(map(re.escape, COMMANDS)) + r") ", fix)
        for command in [fix] if whole else suggested_commands(fix):
            check_command(command)


# --- the situations ---------------------------------------------------------------------------------


@dataclass
class Situations:
    """Runs faber-db into error situations in one project, checking each as it goes."""

    life: Lifecycle

    @property
    def root(self) -> Path:
        return self.life.root

    def expect(self, situation: str, code: str, *args: str, env: dict[str, str | None] | None = None,
               cwd: Path | None = None) -> dict[str, Any]:
        run = run_faber(cwd or self.root, *args, env={**self.life.env, **(env or {})})
        result = run.checked()
        assert error_code(result) == code, f"{situation}: expected {code}, got:\n{json.dumps(result, indent=1)}"
        assert run.returncode == ERROR_CODES[code].exit_code, f"{situation}: exit {run.returncode}"
        check_result(situation, result)
        if code.startswith("PLAN_") or code == "APPROVAL_REQUIRED":
            # a refusal never hands out a plan id to approve: only a fresh dry run does
            given = {args[i + 1] for i, a in enumerate(args[:-1]) if a == "--approve"}
            ids = set(re.findall(r"\b[0-9a-f]{16}\b", json.dumps(result)))
            assert ids <= given, f"{situation}: the refusal names plan ids {sorted(ids - given)}"
        return result

    def plan(self, environment: str = "production", *extra: str) -> str:
        return str(self.life.faber("migrate", environment, "--dry-run", *extra)["details"]["plan"]["plan_id"])

    def edit_config(self, change: dict[str, Any]) -> None:
        path = self.root / CONFIG
        data = tomllib.loads(path.read_text("utf-8"))
        for dotted, value in change.items():
            *parents, key = dotted.split(".")
            table = data
            for part in parents:
                table = table.setdefault(part, {})
            table[key] = value
        path.write_text(tomli_w.dumps(data), "utf-8")

    def execute(self, environment: str, sql: str) -> None:
        url = self.life.urls[{"dev": "DEV_DATABASE_URL", "production": "PROD_DATABASE_URL"}[environment]]
        with sqlite3.connect(url[len("file:"):]) as db:
            db.executescript(sql)

    def deploy_production(self) -> None:
        self.life.faber("migrate", "production", "--approve", self.plan())


@pytest.fixture
def situations(sqlite_project: PrismaProject, tmp_path: Path) -> Situations:
    return Situations(make_lifecycle(sqlite_project, tmp_path, None))


SCENARIOS: dict[str, Callable[[Situations, Path], None]] = {}


def scenario(function: Callable[[Situations, Path], None]) -> Callable[[Situations, Path], None]:
    SCENARIOS[function.__name__] = function
    return function


@scenario
def bad_usage_and_config(s: Situations, tmp_path: Path) -> None:
    s.expect("an unknown command", "USAGE", "migrat", "dev")
    s.expect("a missing environment", "USAGE", "migrate")
    s.expect("an unknown flag", "USAGE", "migrate", "dev", "--yes")
    s.expect("a repeated --project", "USAGE", "--project", ".", "--project", ".", "status", "dev")
    s.expect("an unknown environment", "UNKNOWN_ENVIRONMENT", "status", "nowhere")
    s.expect("init again", "CONFIG_EXISTS", "init")
    s.expect("contradicting backup flags", "INVALID_ARGUMENT", "migrate", "dev", "--skip-backup", "--backup")
    s.expect("a zero timeout", "INVALID_ARGUMENT", "migrate", "dev", "--timeout", "0")
    s.expect("a URL variable not set", "DATABASE_URL_MISSING", "status", "staging", env={"STAGING_DATABASE_URL": None})
    s.expect("a URL faber-db cannot use", "DATABASE_URL_INVALID", "status", "dev",
             env={"DEV_DATABASE_URL": "mysql://user@localhost/shop"})
    s.expect("a database file in a folder that does not exist", "DATABASE_UNREACHABLE", "migrate", "dev",
             env={"DEV_DATABASE_URL": f"file:{tmp_path / 'no-such-folder' / 'dev.db'}"})
    s.expect("no backup with that id", "BACKUP_NOT_FOUND", "restore", "dev", "--from", "20200101T000000Z-0000",
             "--dry-run")
    s.expect("no migration with that name", "MIGRATION_NOT_FOUND", "rollback", "dev", "--to", "20990101000000_nope",
             "--dry-run")
    s.expect("a description that slugs to nothing", "INVALID_NAME", "generate-migration", "!!!", "--force")
    config = (s.root / CONFIG).read_text("utf-8")
    (s.root / CONFIG).write_text(config + "\n[environments.dev\n")
    s.expect("a config that does not parse", "CONFIG_INVALID", "status", "dev")
    (s.root / CONFIG).write_text(config + '\n[safety]\nplan_ttl_hours = -1\n')
    s.expect("a config value out of range", "CONFIG_INVALID", "status", "dev")
    (s.root / CONFIG).write_text(config)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".git").mkdir()  # discovery stops at the git root
    s.expect("no config in the folder", "CONFIG_NOT_FOUND", "status", "dev", cwd=empty)
    s.expect("init where there is no schema", "SCHEMA_NOT_FOUND", "init", cwd=empty)


@scenario
def files_and_schema(s: Situations, tmp_path: Path) -> None:
    schema = s.life.project.schema_path
    good = schema.read_text("utf-8")
    schema.write_text(good + "\nmodel Broken {\n  id Int @id\n  name Strin\n}\n")
    s.expect("a schema with a typo", "SCHEMA_INVALID", "generate-migration", "add broken")
    schema.write_text(good)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.sql"  # the project is tmp_path itself
    outside.write_text("DROP TABLE \"User\";\n")
    linked = s.life.project.migrations_dir / "20990101000000_linked"
    linked.mkdir()
    (linked / "migration.sql").symlink_to(outside)
    s.expect("a migration that links out of the project", "UNSAFE_PATH", "migrate", "dev", "--dry-run")
    shutil.rmtree(linked)
    outside.unlink()
    big = s.life.project.migrations_dir / "20990101000000_big"
    big.mkdir()
    with (big / "migration.sql").open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: large to read, cheap to make
    s.expect("a migration too large to analyse", "FILE_TOO_LARGE", "migrate", "dev", "--dry-run")
    shutil.rmtree(big)
    other = tmp_path / "mysql-project"
    (other / "prisma").mkdir(parents=True)
    (other / ".git").mkdir()
    (other / "prisma" / "schema.prisma").write_text(good.replace('provider = "sqlite"', 'provider = "mysql"'))
    s.expect("a provider faber-db does not support", "PROVIDER_UNSUPPORTED", "init", cwd=other)
    s.edit_config({"prisma.command": [str(tmp_path / "no-such-prisma")]})
    s.expect("no Prisma CLI", "PRISMA_NOT_FOUND", "generate-migration", "add nothing")


@scenario
def refusals(s: Situations, tmp_path: Path) -> None:
    s.deploy_production()
    s.life.project.add_migration("20240202000000_add_bio", ADD_BIO)
    s.expect("a protected apply without approval", "APPROVAL_REQUIRED", "migrate", "production")
    s.expect("a plan id no dry run recorded", "PLAN_UNKNOWN", "migrate", "production", "--approve", "0123456789abcdef")
    plan = s.plan()
    s.expect("--skip-backup on production", "BACKUP_REQUIRED", "migrate", "production", "--approve", plan,
             "--skip-backup")
    record = s.root / ".fractary/plugins/faber-db/plans" / f"{plan}.json"
    data = json.loads(record.read_text("utf-8"))
    fresh = dict(data)
    data["expires_at"] = "2000-01-01T00:00:00Z"  # as if a day had passed
    record.write_text(json.dumps(data))
    s.expect("an expired plan", "PLAN_EXPIRED", "migrate", "production", "--approve", plan)
    record.write_text(json.dumps(fresh))
    s.life.project.add_migration("20240203000000_add_tag", 'CREATE TABLE "Tag" ("id" INTEGER PRIMARY KEY);\n')
    s.expect("a plan whose migrations changed", "PLAN_CHANGED", "migrate", "production", "--approve", plan)
    s.expect("a dev plan id approved for production", "PLAN_CHANGED", "migrate", "production", "--approve",
             s.plan("dev"))
    applied = s.plan()
    s.life.faber("migrate", "production", "--approve", applied)
    s.execute("production", "INSERT INTO \"User\" (email) VALUES ('a@example.com'), ('b@example.com');")
    s.life.project.add_migration("20240204000000_drop_name", 'ALTER TABLE "User" DROP COLUMN "name";\n')
    s.expect("a used plan id approved for the next migration", "PLAN_USED", "migrate", "production", "--approve",
             applied)
    s.expect("a destructive plan without --allow-destructive", "DESTRUCTIVE_CHANGE", "migrate", "production",
             "--approve", s.plan())
    from faber_db.locking import environment_lock

    with environment_lock(s.root, "production", "migrate"):
        s.expect("another deploy holds the lock", "DEPLOY_IN_PROGRESS", "migrate", "production", "--approve",
                 s.plan(), "--allow-destructive")
    shutil.rmtree(s.life.project.migrations_dir / "20240204000000_drop_name")
    s.life.project.add_migration("20240205000000_drop_schema", "DROP SCHEMA main;\n")
    s.expect("a statement never allowed", "OPERATION_BLOCKED", "migrate", "dev")


@scenario
def failures(s: Situations, tmp_path: Path) -> None:
    s.life.faber("migrate", "dev")
    s.deploy_production()
    init_sql = next(s.life.project.migrations_dir.glob("*_init")) / "migration.sql"
    original = init_sql.read_text("utf-8")
    init_sql.write_text(original + "\n-- edited after it was applied\n")
    s.expect("an applied migration edited", "MODIFIED_MIGRATION", "migrate", "dev")
    init_sql.write_text(original)
    s.life.project.add_migration("20240202000000_failing", FAILING)
    s.expect("a migration failing on dev (no backup)", "MIGRATION_FAILED", "migrate", "dev")
    s.expect("a failed migration left in dev", "FAILED_MIGRATION_PRESENT", "migrate", "dev")
    s.expect("a migration failing on production (restored)", "MIGRATION_FAILED", "migrate", "production",
             "--approve", s.plan())
    (s.root / "not-a-folder").write_text("")
    s.edit_config({"backup.directory": "not-a-folder/backups"})
    s.expect("a backup folder under a file", "BACKUP_FAILED", "backup", "dev")
    s.execute("dev", 'CREATE TABLE "Handmade" ("id" INTEGER PRIMARY KEY);')
    s.expect("an unhealthy environment", "UNHEALTHY", "health-check", "dev")
    lines = (s.root / AUDIT).read_text("utf-8").splitlines()
    lines[0] = lines[0].replace('"dev"', '"staging"', 1)
    (s.root / AUDIT).write_text("\n".join(lines) + "\n")
    s.expect("an edited audit line", "AUDIT_TAMPERED", "audit", "--verify")


@scenario
def rollback_scope(s: Situations, tmp_path: Path) -> None:
    """No down.sql, and the only backup predates every migration: undoing one migration by restoring
    it would undo all of them, which must be named (`--restore-backup ID`)."""
    s.life.faber("db-create", "staging")
    s.life.faber("backup", "staging")
    s.life.project.add_migration("20240202000000_add_bio", ADD_BIO)
    s.life.faber("migrate", "staging")
    s.expect("a rollback whose restore undoes more than asked", "CONFIRMATION_REQUIRED", "rollback", "staging",
             "--last", "1")


@scenario
def what_to_run_next(s: Situations, tmp_path: Path) -> None:
    """Not errors: the command a dry run prints to apply its plan, and a success's next step."""
    s.deploy_production()
    s.life.project.add_migration("20240202000000_add_bio", ADD_BIO)
    results = {"migrate production --dry-run": s.life.faber("migrate", "production", "--dry-run"),
               "migrate dev --dry-run": s.life.faber("migrate", "dev", "--dry-run"),
               "rollback production --dry-run": s.life.faber("rollback", "production", "--dry-run"),
               "db-create staging --dry-run": s.life.faber("db-create", "staging", "--dry-run"),
               "status dev": s.life.faber("status", "dev")}
    s.life.faber("migrate", "dev")
    backup = s.life.faber("backup", "dev")["details"]["backup"]["id"]
    results["restore dev --from"] = s.life.faber("restore", "dev", "--from", backup)
    results["db-create staging"] = s.life.faber("db-create", "staging")
    s.expect("a rollback with no down.sql and no backup before it", "NO_DOWN_MIGRATION", "rollback", "dev")
    (s.life.project.migrations_dir / "20240202000000_add_bio" / "down.sql").write_text(
        'ALTER TABLE "User" DROP COLUMN "bio";\n')
    results["rollback dev"] = s.life.faber("rollback", "dev")
    for situation, result in results.items():
        assert result["suggested_fixes"], f"{situation}: nothing to go on with"
        check_fixes(situation, result)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_hint_adds_something_and_its_commands_run(situations: Situations, tmp_path: Path, name: str) -> None:
    SCENARIOS[name](situations, tmp_path)


def test_the_plugin_grants_every_command_a_hint_can_name() -> None:
    """What `check_command` relies on: the grants exist (a grant lost would fail every scenario at once)."""
    assert {"status", "migrate", "restore", "backups", "rollback", "generate-migration", "init"} <= granted_commands()


# --- no false "interrupted" warnings ------------------------------------------------------------------


def _wrapper(life: Lifecycle, after_deploy: str) -> None:
    """prisma.command = the real Prisma; after a successful `migrate deploy`, `after_deploy` (bash) runs.
    A real deploy cannot be made to pass and still fail verification, so the test breaks what Prisma
    recorded right after it (the only way to reach VERIFY_FAILED)."""
    script = life.root / "prisma-wrapper.sh"
    node = shutil.which("node") or "node"
    script.write_text("#!/bin/bash\n"
                      f'{node} {life.project.cli} "$@"\ncode=$?\n'
                      'if [ "$1 $2" = "migrate deploy" ] && [ $code = 0 ]; then\n' + after_deploy + "\nfi\n"
                      "exit $code\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    path = life.root / CONFIG
    data = tomllib.loads(path.read_text("utf-8"))
    data.setdefault("prisma", {})["command"] = [str(script)]
    path.write_text(tomli_w.dumps(data), "utf-8")


def _unmark_last(database: Path, migration: str) -> str:
    """bash that makes Prisma's history say `migration` never finished."""
    code = ("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
            "c.execute('UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = ?', (sys.argv[2],)); "
            "c.commit()")
    return shlex.join([sys.executable, "-c", code, str(database), migration])


def _said(result: dict[str, Any]) -> str:
    return " ".join([result["message"], *result["warnings"], *(e["message"] for e in result.get("errors") or [])])


@pytest.mark.parametrize("failure", ["MIGRATION_FAILED", "VERIFY_FAILED"])
def test_a_failed_deploy_is_not_reported_as_interrupted(situations: Situations, failure: str) -> None:
    """The next migrate reads the state under the lock (where an earlier run's journal is looked at):
    it must not call the failed deploy interrupted, before its refusal for want of an approval."""
    s = situations
    s.deploy_production()
    if failure == "MIGRATION_FAILED":
        s.life.project.add_migration("20240202000000_failing", FAILING)
    else:
        s.life.project.add_migration("20240202000000_add_bio", ADD_BIO)
        database = Path(s.life.urls["PROD_DATABASE_URL"][len("file:"):])
        _wrapper(s.life, _unmark_last(database, "20240202000000_add_bio"))
    failed = s.expect(f"a deploy ending {failure}", failure, "migrate", "production", "--approve", s.plan())
    assert failed["details"]["restored"] is True, failed
    after = s.life.faber("migrate", "production", expect=3)
    assert error_code(after) == "APPROVAL_REQUIRED", after
    assert "interrupt" not in _said(after).lower(), f"a false interrupted warning after {failure}: {_said(after)}"


def test_a_failed_dev_deploy_without_backup_is_a_failed_migration_not_an_interrupted_one(
        situations: Situations) -> None:
    s = situations
    s.life.project.add_migration("20240202000000_failing", FAILING)
    s.expect("a migration failing on dev (no backup)", "MIGRATION_FAILED", "migrate", "dev")
    after = s.expect("the next migrate of dev", "FAILED_MIGRATION_PRESENT", "migrate", "dev")
    assert "interrupt" not in _said(after).lower(), _said(after)
