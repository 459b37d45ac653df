"""Bad input as a new user makes it, each through the real CLI: one JSON object on stdout, the
documented exit code and error code, a hint that says what to do, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faber import describe, error_code, run_faber, tree_snapshot, write_config
from faber_db.errors import ERROR_CODES
from harness import free_port

SQLITE_SCHEMA = (
    'datasource db {\n  provider = "sqlite"\n  url      = env("DATABASE_URL")\n}\n\nmodel User {\n  id Int @id\n}\n'
)
PG_SCHEMA = SQLITE_SCHEMA.replace('"sqlite"', '"postgresql"')


def prisma_project(root: Path, schema: str = SQLITE_SCHEMA) -> None:
    (root / "prisma" / "migrations" / "20240101000000_init").mkdir(parents=True)
    (root / "prisma" / "schema.prisma").write_text(schema)
    (root / "prisma" / "migrations" / "20240101000000_init" / "migration.sql").write_text(
        'CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY);\n')


def configured(provider: str = "sqlite") -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        prisma_project(root, SQLITE_SCHEMA if provider == "sqlite" else PG_SCHEMA)
        write_config(root, provider, environments={
            "dev": {"url_env": "DEV_DATABASE_URL"},
            "staging": {"url_env": "STAGING_DATABASE_URL"},
            "production": {"url_env": "PROD_DATABASE_URL", "protected": True, "backup": "required"},
        })
    return setup


def corrupt_config(root: Path) -> None:
    prisma_project(root)
    path = root / ".fractary/plugins/faber-db/config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[database]\nprovider = "sqlite"\n[environments.dev\nurl_env = "DEV_DATABASE_URL"\n')


def empty_folder(root: Path) -> None:
    (root / "README.md").write_text("my app\n")


@dataclass
class Case:
    id: str
    setup: Callable[[Path], None]
    args: tuple[str, ...]
    code: str
    exit: int
    env: dict[str, str] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()  # each must appear in the error's message or hint


def _dev_sqlite(root: Path) -> dict[str, str]:
    return {"DEV_DATABASE_URL": f"file:{root / 'dev.db'}"}


CASES = [
    Case("no-config", prisma_project, ("status", "dev"), "CONFIG_NOT_FOUND", 2, mentions=("faber-db init",)),
    Case("no-config-migrate", prisma_project, ("migrate", "dev", "--dry-run"), "CONFIG_NOT_FOUND", 2),
    Case("wrong-env-name", configured(), ("status", "prod-eu"), "UNKNOWN_ENVIRONMENT", 2,
         mentions=("prod-eu", "dev", "staging", "production")),
    Case("wrong-env-name-migrate", configured(), ("migrate", "developmnt", "--dry-run"), "UNKNOWN_ENVIRONMENT", 2,
         mentions=("dev", "staging", "production")),
    Case("url-variable-unset", configured(), ("status", "dev"), "DATABASE_URL_MISSING", 2,
         mentions=("DEV_DATABASE_URL",)),
    Case("url-variable-empty", configured(), ("status", "staging"), "DATABASE_URL_MISSING", 2,
         env={"STAGING_DATABASE_URL": "  "}, mentions=("STAGING_DATABASE_URL",)),
    Case("url-variable-unset-migrate", configured(), ("migrate", "production", "--dry-run"),
         "DATABASE_URL_MISSING", 2, mentions=("PROD_DATABASE_URL",)),
    Case("url-of-wrong-kind", configured("sqlite"), ("status", "dev"), "DATABASE_URL_INVALID", 2,
         env={"DEV_DATABASE_URL": "postgresql://u:p@localhost/app"}),
    Case("pg-provider-with-file-url", configured("postgresql"), ("status", "dev"), "DATABASE_URL_INVALID", 2,
         env={"DEV_DATABASE_URL": "file:./dev.db"}),
    Case("unreachable-database", configured("postgresql"), ("status", "dev"), "DATABASE_UNREACHABLE", 1,
         env={"DEV_DATABASE_URL": f"postgresql://faber:pw@127.0.0.1:{free_port()}/app"}),
    Case("corrupt-config", corrupt_config, ("status", "dev"), "CONFIG_INVALID", 2),
    Case("no-prisma-schema", empty_folder, ("init",), "SCHEMA_NOT_FOUND", 2),
    Case("unknown-flag", configured(), ("status", "dev", "--verbose-please"), "USAGE", 2,
         mentions=("--verbose-please",)),
    Case("unknown-flag-before-command", configured(), ("--yes", "status", "dev"), "USAGE", 2),
    Case("no-command", configured(), (), "USAGE", 2),
    Case("unknown-command", configured(), ("deploy", "dev"), "USAGE", 2, mentions=("deploy",)),
    Case("missing-environment-argument", configured(), ("status",), "USAGE", 2),
    Case("bad-format-value", configured(), ("status", "dev", "--format", "yaml"), "USAGE", 2),
    Case("empty-migration-name", configured(), ("generate-migration", "!!!"), "INVALID_NAME", 2),
    Case("contradicting-flags", configured(), ("migrate", "dev", "--skip-backup", "--backup"),
         "INVALID_ARGUMENT", 2),
    Case("negative-timeout", configured(), ("migrate", "dev", "--timeout", "-5"), "INVALID_ARGUMENT", 2),
    Case("non-numeric-timeout", configured(), ("migrate", "dev", "--timeout", "soon"), "USAGE", 2),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input(tmp_path: Path, case: Case) -> None:
    root = tmp_path / "app"
    root.mkdir()
    case.setup(root)
    # a working dev URL unless the case is about the URL variable itself
    env = dict(case.env) if case.code == "DATABASE_URL_MISSING" else {**_dev_sqlite(root), **case.env}
    before = tree_snapshot(root)

    code, result, stderr = run_faber(root, *case.args, env=env, timeout=60)

    assert result["status"] == "failure", describe(result, stderr)
    assert error_code(result) == case.code, describe(result, stderr)
    assert code == case.exit == ERROR_CODES[case.code].exit_code, describe(result, stderr)
    error = result["errors"][0]
    assert error["message"].strip()
    assert error["hint"].strip(), f"{case.code} needs a hint telling the user what to do"
    assert result["message"].strip()
    for word in case.mentions:
        assert word in error["message"] + "\n" + error["hint"], f"{word!r} not mentioned:\n{describe(result)}"
    assert tree_snapshot(root) == before, "bad input must not write anything in the project"
    assert not (root / "dev.db").exists()


def test_project_flag_to_missing_folder(tmp_path: Path) -> None:
    code, result, stderr = run_faber(tmp_path, "--project", str(tmp_path / "nope"), "status", "dev")
    assert code == 2, describe(result, stderr)
    assert error_code(result) in ("CONFIG_NOT_FOUND", "INVALID_ARGUMENT")
    assert result["errors"][0]["hint"]
    assert not (tmp_path / "nope").exists()
