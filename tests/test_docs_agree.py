"""The plugin's Markdown says what faber-db does.

- Exit codes: wherever a command, skill or the workflow lists an error code with an exit code (in a
  sentence such as "Exit 3 means a safety rule refused: ...", as "`CODE` (exit N)", in a table with
  an Exit column, or under a heading "(exit N)"), it is the exit code errors.py gives the code
  (`UNHEALTHY` is 1, not 3). Every code the Markdown names is a registered one.
- Result fields: every `details.<field>` (and `details.<field>.<field>`) the Markdown tells the agent
  to read exists in the JSON Schema of the operations that file is about.
- The step table of skills/migration-deployer/workflow/deploy.md is the order of the steps a real
  run reports in `details.steps`: a dry run, an approved apply, and an apply whose migration fails
  and is restored, each compared row by row with the table's columns for that run (real Prisma,
  real SQLite).
- A command that promises a default environment runs it (`/faber-db:status` with no argument runs
  `faber-db status dev`), and the files that lead to a protected apply describe the approval as it
  works: the dry run, the person's yes, the approval hook's prompt whose command carries the proof,
  the printed command run exactly as printed, and never a plan id typed, guessed or reused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from faber_db import schema as schema_module
from faber_db.errors import ERROR_CODES
from harness import PrismaProject
from lifecycle import Lifecycle, make_lifecycle

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "plugins" / "faber-db"
DEPLOY_MD = PLUGIN / "skills/migration-deployer/workflow/deploy.md"
MARKDOWN = sorted({*PLUGIN.glob("commands/*.md"), *PLUGIN.glob("skills/**/*.md"), *PLUGIN.glob("agents/*.md")})

CODE = re.compile(r"`([A-Z][A-Z0-9_]+)`")  # `UNHEALTHY`, `PLAN_CHANGED`, ... (and variables)
EXIT = re.compile(r"\bexit (\d)\b", re.I)
ANNOTATED = re.compile(r"\s*\(exit (\d)")
NOT_CODES = re.compile(r"_URL$|^CLAUDE_|^FABER_DB_")  # variables the Markdown names, not error codes

# which operations' results each file tells the agent to read
OPERATIONS: dict[str, set[str]] = {
    "commands/backup.md": {"backup", "backups"},
    "commands/restore.md": {"restore", "backups"},
    "skills/migration-deployer/SKILL.md": {"migrate"},
    "skills/migration-deployer/workflow/deploy.md": {"migrate"},
    "skills/handler-db-prisma/SKILL.md": {"status", "generate-migration", "migrate", "init"},
    "skills/backup-manager/SKILL.md": {"backup", "backups", "restore", "rollback", "audit"},
    "skills/health-checker/SKILL.md": {"health-check"},
    "skills/db-initializer/SKILL.md": {"init", "db-create"},
    # a phase's steps carry the single commands' results
    "skills/faber-coordinator/SKILL.md": {"faber", "generate-migration", "migrate"},
    "skills/safety-validator/SKILL.md": {"generate-migration", "migrate"},
    "skills/migration-generator/SKILL.md": {"generate-migration"},
    "agents/db-manager.md": set(schema_module.OPERATION_DETAILS),
}
# the files that lead the agent to a protected apply
APPROVING = ["commands/migrate.md", "commands/restore.md", "commands/rollback.md", "commands/db-create.md",
             "skills/migration-deployer/SKILL.md", "skills/backup-manager/SKILL.md",
             "skills/db-initializer/SKILL.md", "skills/faber-coordinator/SKILL.md", "agents/db-manager.md",
             "skills/migration-deployer/workflow/deploy.md"]


def _name(path: Path) -> str:
    return str(path.relative_to(PLUGIN))


def _body(path: Path) -> str:
    text = path.read_text("utf-8")
    return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text


def _blocks(text: str) -> list[tuple[str | None, str]]:
    """(the heading above it, the block): each table row, list item (with its continuation lines) and
    paragraph on its own."""
    blocks: list[tuple[str | None, str]] = []
    heading: str | None = None
    current: list[str] = []

    def close() -> None:
        if current:
            blocks.append((heading, " ".join(line.strip() for line in current)))
            current.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            close()
            heading = stripped
        elif not stripped or stripped.startswith("|"):
            close()
            if stripped:
                blocks.append((heading, stripped))
        elif re.match(r"(?:[-*]|\d+\.) ", stripped):
            close()
            current.append(stripped)
        else:
            current.append(stripped)
    close()
    return blocks


def _stated_exits(heading: str | None, block: str) -> list[tuple[str, int]]:
    """(code, the exit code the text gives it) for each code the block ties to an exit code: its own
    "(exit N)", else the nearest "exit N" in the block, else the heading's "(exit N)"."""
    exits = [(m.start(), int(m.group(1))) for m in EXIT.finditer(block)]
    fallback = EXIT.search(heading or "")
    found = []
    for match in CODE.finditer(block):
        code = match.group(1)
        if code not in ERROR_CODES:
            continue
        own = ANNOTATED.match(block, match.end())
        if own:
            found.append((code, int(own.group(1))))
        elif exits:
            found.append((code, min(exits, key=lambda e: abs(e[0] - match.start()))[1]))
        elif fallback:
            found.append((code, int(fallback.group(1))))
    return found


def _table_exits(text: str) -> list[tuple[str, int]]:
    """Codes in the first column of a table with an Exit column, with that column's number."""
    found = []
    column: int | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if column is None:
            lowered = [c.lower() for c in cells]
            column = lowered.index("exit") if "exit" in lowered else -1
            continue
        if column < 0 or set("".join(cells)) <= set("-: "):
            continue
        for code in CODE.findall(cells[0]):
            found.append((code, int(cells[column])))
    return found


# --- exit codes and error codes ---------------------------------------------------------------------


@pytest.mark.parametrize("markdown", MARKDOWN, ids=_name)
def test_exit_codes_listed_are_the_codes_exit_codes(markdown: Path) -> None:
    body = _body(markdown)
    stated = [pair for heading, block in _blocks(body) for pair in _stated_exits(heading, block)]
    stated += _table_exits(body)
    wrong = sorted({f"{code}: the Markdown says exit {said}, errors.py says {ERROR_CODES[code].exit_code}"
                    for code, said in stated if ERROR_CODES[code].exit_code != said})
    assert not wrong, f"{_name(markdown)}: " + "; ".join(wrong)


def test_the_exit_code_check_sees_a_code_under_the_wrong_exit() -> None:
    """The check above reads the shapes the Markdown uses (the bug it was written for among them)."""
    shapes = [(None, "- Exit 3 means a safety rule refused: `APPROVAL_REQUIRED` (dry run), `UNHEALTHY`."),
              (None, "`PLAN_CHANGED`, `UNHEALTHY` (exit 3): preview again."),
              ("## Refusals (exit 3)", "| `UNHEALTHY` | pre-deploy health check failed |")]
    for heading, block in shapes:
        assert ("UNHEALTHY", 3) in _stated_exits(heading, block), block
    assert _table_exits("| Code | Exit |\n|---|---|\n| `UNHEALTHY` | 3 |\n") == [("UNHEALTHY", 3)]


@pytest.mark.parametrize("markdown", MARKDOWN, ids=_name)
def test_every_code_named_is_registered(markdown: Path) -> None:
    named = {code for code in CODE.findall(markdown.read_text("utf-8")) if "_" in code and not NOT_CODES.search(code)}
    unknown = sorted(named - set(ERROR_CODES))
    assert not unknown, f"{_name(markdown)} names codes errors.py does not have: {unknown}"


# --- result fields ----------------------------------------------------------------------------------


def _details_schema(operation: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = json.loads((schema_module.SCHEMA_DIR / f"{operation}.schema.json").read_text("utf-8"))
    return _object(schema["properties"]["details"], schema["$defs"]), schema["$defs"]


def _object(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The object schema a property holds (through $ref, anyOf and list items); {} when none."""
    if "$ref" in node:
        return _object(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    if "properties" in node:
        return node
    for option in node.get("anyOf", []):
        found = _object(option, defs)
        if found:
            return found
    if "items" in node:
        return _object(node["items"], defs)
    return {}


def _has_field(operation: str, path: list[str]) -> bool:
    node, defs = _details_schema(operation)
    for part in path:
        properties = node.get("properties", {})
        if part not in properties:
            return False
        node = _object(properties[part], defs)
        if not node:
            return True  # a value, a list of values or a free-form dict: nothing further to check
    return True


def _operations(markdown: Path) -> set[str]:
    name = _name(markdown)
    if name in OPERATIONS:
        return OPERATIONS[name]
    return {Path(name).stem} if name.startswith("commands/") else set()


@pytest.mark.parametrize("markdown", MARKDOWN, ids=_name)
def test_result_fields_named_exist(markdown: Path) -> None:
    operations = _operations(markdown)
    wrong = []
    for match in re.finditer(r"\bdetails((?:\.[a-z_]+)+)", markdown.read_text("utf-8")):
        path = match.group(1).strip(".").split(".")[:2]
        if not any(_has_field(op, path) for op in operations):
            wrong.append("details." + ".".join(path))
    assert not wrong, f"{_name(markdown)} reads fields no {sorted(operations)} result has: {sorted(set(wrong))}"


# --- the step table of deploy.md --------------------------------------------------------------------


def _step_table() -> list[dict[str, Any]]:
    rows = []
    for line in DEPLOY_MD.read_text("utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].isdigit():
            name = re.fullmatch(r"`([a-z_]+)`", cells[1])
            assert name, f"deploy.md row {cells[0]}: the step name is not `name`: {cells[1]!r}"
            rows.append({"number": int(cells[0]), "name": name[1], "dry run": cells[2] == "yes",
                         "apply": cells[3] == "yes", "failure": cells[4] == "yes"})
    assert rows and [r["number"] for r in rows] == list(range(1, len(rows) + 1)), rows
    return rows


FAILING = 'CREATE TABLE "Note" ("id" INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO "Nowhere" VALUES (1);\n'


@pytest.fixture
def production(sqlite_project: PrismaProject, tmp_path: Path) -> Lifecycle:
    return make_lifecycle(sqlite_project, tmp_path, None)


def _names(result: dict[str, Any]) -> list[str]:
    return [step["name"] for step in result["details"]["steps"]]


def test_the_deploy_step_table_is_what_a_real_run_reports(production: Lifecycle) -> None:
    rows = _step_table()
    table = [r["name"] for r in rows]
    assert len(set(table)) == len(table), "a step listed twice"

    dry = production.faber("migrate", "production", "--dry-run")
    assert _names(dry) == [r["name"] for r in rows if r["dry run"]], "the dry run's steps"
    applied = production.faber("migrate", "production", "--approve", dry["details"]["plan"]["plan_id"])
    assert _names(applied) == [r["name"] for r in rows if r["apply"]], "an approved apply's steps"
    skipped = {s["name"]: s["message"] for s in applied["details"]["steps"] if s["status"] == "skipped"}
    assert set(skipped) == {"generate_client"} and skipped["generate_client"], skipped  # says why

    production.project.add_migration("20240202000000_failing", FAILING)
    plan = production.faber("migrate", "production", "--dry-run")["details"]["plan"]["plan_id"]
    failed = production.faber("migrate", "production", "--approve", plan, expect=1)
    assert failed["details"]["restored"] is True, failed
    names = _names(failed)
    at = next(i for i, s in enumerate(failed["details"]["steps"]) if s["status"] == "failed")
    before = [r["name"] for r in rows if r["apply"]]
    position = before.index(names[at])
    after = [r["name"] for r in rows[table.index(names[at]) + 1:] if r["failure"]]
    assert names == before[:position + 1] + after, "a failed apply's steps: up to the failure, then the table's"


# --- what the commands promise ----------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(PLUGIN.glob("commands/*.md")), ids=lambda p: p.stem)
def test_a_default_environment_promised_is_the_one_run(command: Path) -> None:
    body = _body(command)
    for _, block in _blocks(body):
        if "$ARGUMENTS" not in block or not re.search(r"\bempty\b|names no environment", block):
            continue
        for environment in re.findall(r"\b(dev|staging|production)\b", block):
            assert f"`faber-db {command.stem} {environment}`" in body, (
                f"{command.name} promises {environment} when no environment is given but does not run it: {block}")


def test_status_and_health_check_run_dev_without_an_argument() -> None:
    """The two commands that default to dev say so and run it (an empty `$ARGUMENTS` is a usage error)."""
    for name in ("status", "health-check"):
        body = _body(PLUGIN / "commands" / f"{name}.md")
        assert "is empty, dev" in body and f"`faber-db {name} dev`" in body, name


@pytest.mark.parametrize("name", APPROVING)
def test_the_approval_is_described_as_it_works(name: str) -> None:
    text = " ".join((PLUGIN / name).read_text("utf-8").split())
    lowered = text.lower()
    assert "dry run" in lowered or "--dry-run" in text, f"{name}: no dry run before the approval"
    assert "approval hook" in lowered, f"{name}: Claude Code's prompt through the approval hook is not named"
    assert "proof" in lowered, f"{name}: does not say the approved command carries the person's proof"
    assert "exactly as printed" in lowered, f"{name}: the command the dry run printed is not to be run as printed"
    assert re.search(r"never[^.]*type, guess or reuse (a plan id|one)", lowered), (
        f"{name}: no rule against typing or reusing a plan id")
    assert "re-run with `--approve" not in lowered, f"{name}: tells the agent to compose an --approve itself"



# --- README: "Use it in your project" ----------------------------------------------------------------


def _use_it_section() -> str:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "## Use it in your project" in readme
    return readme.split("## Use it in your project", 1)[1].split("\n## ", 1)[0]


def test_use_it_in_your_project_states_the_real_floors_and_names() -> None:
    """The versions it states are the ones the package, the launcher and Prisma's lock entry enforce,
    and the install command names the marketplace and plugin this repo publishes."""
    section = " ".join(_use_it_section().split())
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert 'requires-python = ">=3.10"' in pyproject and "Python ≥ 3.10" in section
    assert "sys.version_info >= (3, 10)" in (PLUGIN / "bin" / "faber-db").read_text("utf-8")
    lock = json.loads((REPO / "tests" / "kit" / "package-lock.json").read_text("utf-8"))
    prisma = lock["packages"]["node_modules/prisma"]
    assert prisma["version"].startswith("6.15.") and prisma["engines"]["node"] == ">=18.18"
    assert "Node.js ≥ 18.18" in section and "Prisma 6.15 and 7.10" in section
    marketplace = json.loads((REPO / ".claude-plugin" / "marketplace.json").read_text("utf-8"))
    plugin = json.loads((PLUGIN / ".claude-plugin" / "plugin.json").read_text("utf-8"))
    assert f"claude plugin install {plugin['name']}@{marketplace['name']}" in section
    assert [p["name"] for p in marketplace["plugins"]] == [plugin["name"]]
    assert "${CLAUDE_PLUGIN_DATA}" in section and "faber-db init --claude-settings" in section
    assert ". .demo/env.sh" in section


def test_getting_back_into_the_demo_project_works_as_the_readme_says(tmp_path: Path) -> None:
    """Run the demo, then in a fresh shell (no URLs, no faber-db on PATH) the README's lines: source
    `env.sh`, go into the project, run faber-db there."""
    target = tmp_path / "demo"
    clean = {k: v for k, v in os.environ.items()
             if not k.endswith("DATABASE_URL") and k not in ("CLAUDE_DB_CWD", "FABER_DB_CONFIG", "COLUMNS")}
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py"), str(target)], env=clean,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (target / "env.sh").is_file() and (target / "project").is_dir() and (target / "databases").is_dir()
    venv_bin = str(Path(sys.executable).parent)
    shell = {**clean, "PATH": os.pathsep.join(p for p in clean.get("PATH", "").split(os.pathsep) if p != venv_bin)}
    for args, check in ((["status", "production"], lambda r: r["details"]["up_to_date"] is True),
                        (["migrate", "production", "--dry-run"], lambda r: r["status"] == "success")):
        # the README's line, with the file and folder as arguments (no value is put into the script)
        line = '. "$1" && cd "$2" && faber-db "${@:3}" --project .'
        run = subprocess.run(["bash", "-c", line, "bash", str(target / "env.sh"), str(target / "project"), *args],
                             env=shell, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                             check=False)
        assert run.returncode == 0, f"{args}: {run.stdout[-2000:]}{run.stderr[-2000:]}"
        result = json.loads(run.stdout)
        assert result["environment"] == "production" and check(result), result
