"""The documented contract stays true: the README's error table is the code's, the checked-in JSON
Schemas are what pydantic derives from the result types, and real results of every command
validate against their schema (run in a real Prisma project on SQLite)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest
from faber import run_faber
from faber_db import schema as schema_module
from faber_db.errors import ERROR_CODES, markdown_table
from harness import PrismaProject

REPO = Path(__file__).resolve().parents[1]


def test_readme_error_table_is_the_codes_table() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    block = re.search(r"<!-- error-codes:start -->\n(.*?)\n<!-- error-codes:end -->", readme, re.S)
    assert block, "README lost its error-code markers"
    assert block[1].strip() == markdown_table(), "README error table is stale: python -m faber_db.errors"
    for code in ERROR_CODES:
        assert f"`{code}`" in readme


def test_checked_in_schemas_are_fresh() -> None:
    for operation in schema_module.OPERATION_DETAILS:
        path = schema_module.SCHEMA_DIR / f"{operation}.schema.json"
        assert path.is_file(), f"missing {path.name}: python -m faber_db.schema --write"
        assert path.read_text("utf-8") == schema_module.render(operation), (
            f"{path.name} is stale: python -m faber_db.schema --write")


def _validate(result: dict[str, object]) -> None:
    operation = str(result["operation"])
    schema = json.loads((schema_module.SCHEMA_DIR / f"{operation}.schema.json").read_text("utf-8"))
    jsonschema.validate(result, schema)


def test_every_command_result_matches_its_schema(sqlite_project: PrismaProject, tmp_path: Path) -> None:
    """One pass through every command on a real project; each result validates against its schema
    (and a schema that accepted anything would not reject the broken result at the end)."""
    root = sqlite_project.root
    env: dict[str, str | None] = {
        "DEV_DATABASE_URL": sqlite_project.database_url,
        "STAGING_DATABASE_URL": f"file:{tmp_path / 'staging.db'}",
        "PROD_DATABASE_URL": f"file:{tmp_path / 'prod.db'}",
    }
    results = []

    def faber(*args: str, expect: int = 0) -> dict[str, object]:
        code, result, _stderr = run_faber(root, *args, env=env)
        assert code == expect, result
        _validate(result)
        results.append(result)
        return result

    faber("init")
    faber("status", "dev")
    faber("migrate", "dev")
    sqlite_project.write_schema("model User {\n  id    Int     @id @default(autoincrement())\n"
                                "  email String  @unique\n  name  String?\n  bio   String?\n}\n")
    faber("generate-migration", "add bio", "--preview")
    faber("generate-migration", "add bio")
    plan = faber("migrate", "production", "--dry-run")
    faber("migrate", "production", expect=3)
    faber("migrate", "production", "--approve", str(plan["details"]["plan"]["plan_id"]))  # type: ignore[index]
    faber("migrate", "dev")
    backup = faber("backup", "dev", "--label", "schema test")
    faber("backups", "dev")
    faber("restore", "dev", "--from", str(backup["details"]["backup"]["id"]), "--dry-run")  # type: ignore[index]
    faber("rollback", "dev", "--dry-run")
    faber("rollback", "dev")
    faber("status", "dev", "--drift")
    faber("health-check", "dev")
    faber("db-create", "staging")
    faber("audit", "--verify")
    faber("faber", "build")
    faber("migrate", "nowhere", expect=2)
    assert {r["operation"] for r in results} == set(schema_module.OPERATION_DETAILS)

    broken = dict(results[1])
    broken["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken)
    shutil.rmtree(root / ".fractary", ignore_errors=True)


def test_plugin_requirements_match_pyproject() -> None:
    """The plugin's venv (requirements.txt, installed by the launcher) gets what pip install . gets."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    def normal(requirement: str) -> str:
        return requirement.replace(" ", "").replace('"', "'")

    declared = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    lines = (REPO / "plugins" / "faber-db" / "requirements.txt").read_text("utf-8").splitlines()
    listed = [line for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(map(normal, listed)) == sorted(map(normal, declared))
