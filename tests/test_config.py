"""The config file as a user writes it: TOML, the original plugin's config.json, FABER_DB_CONFIG,
clear errors naming the key, and the validation cache (which must never change an answer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from faber import describe, error_code, run_faber, write_config
from harness import PrismaProject

INIT = "20240101000000_init"
CONFIG_REL = Path(".fractary/plugins/faber-db/config.toml")

# The original plugin's config.json, as its /faber-db:init wrote it (docs: "Configuration Created").
ORIGINAL_CONFIG_JSON: dict[str, Any] = {
    "schema_version": "1.0",
    "database": {"provider": "postgresql", "hosting": "aws-aurora", "migration_tool": "prisma"},
    "environments": {
        "dev": {"connection_string_env": "DEV_DATABASE_URL", "auto_migrate": True, "backup_before_migrate": False},
        "staging": {
            "connection_string_env": "STAGING_DATABASE_URL",
            "auto_migrate": False,
            "backup_before_migrate": True,
        },
        "production": {
            "connection_string_env": "PROD_DATABASE_URL",
            "auto_migrate": False,
            "backup_before_migrate": True,
            "require_approval": True,
        },
    },
    "migrations": {"directory": "prisma/migrations", "table": "_prisma_migrations", "timeout_seconds": 300},
    "safety": {
        "protected_environments": ["production"],
        "require_approval_for": ["migrate", "rollback", "seed"],
        "max_auto_rollback_attempts": 1,
        "health_check_before_deploy": True,
    },
    "backup": {"provider": "aws-rds-snapshot", "retention_days": 30, "backup_before_destructive_ops": True},
    "integration": {
        "cloud_plugin": "fractary-faber-cloud",
        "work_plugin": "fractary-work",
        "logs_plugin": "fractary-logs",
    },
}


def _status(project: PrismaProject, env_name: str = "dev", **env: str | None) -> tuple[int, dict[str, Any], str]:
    code, result, stderr = run_faber(project.root, "status", env_name, env=env)
    return code, result, stderr


def _invalid(code: int, result: dict[str, Any], stderr: str) -> str:
    """Assert a CONFIG_INVALID failure and return its message + hint (for key checks)."""
    assert code == 2, describe(result, stderr)
    assert result["status"] == "failure"
    assert error_code(result) == "CONFIG_INVALID", describe(result, stderr)
    err = result["errors"][0]
    assert err["hint"].strip(), "a config error must say how to fix it"
    return err["message"] + "\n" + err["hint"]


# --- loading ------------------------------------------------------------------------------------


def test_hand_written_toml_loads_and_is_used(sqlite_deployed_project: PrismaProject) -> None:
    """A minimal config.toml a user types by hand: its variable names and aliases are what status uses."""
    project = sqlite_deployed_project
    write_config(project.root, "sqlite", environments={
        "dev": {"url_env": "MY_APP_DEV_URL"},
        "production": {"url_env": "MY_APP_PROD_URL", "protected": True, "backup": "required", "aliases": ["live"]},
    })
    code, result, stderr = _status(project, MY_APP_DEV_URL=project.database_url)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "success"
    assert result["details"]["applied"] == [INIT]
    assert result["details"]["up_to_date"] is True

    # the alias resolves to its environment, which reads its own variable
    code, result, stderr = _status(project, "live", MY_APP_PROD_URL=project.database_url)
    assert code == 0, describe(result, stderr)
    assert result["environment"] == "production"
    assert result["details"]["applied"] == [INIT]

    # DEV_DATABASE_URL (the default name) is not what this config says: it is ignored
    code, result, _ = _status(project, DEV_DATABASE_URL=project.database_url)
    assert code == 2
    assert error_code(result) == "DATABASE_URL_MISSING"
    assert "MY_APP_DEV_URL" in result["errors"][0]["message"] + result["errors"][0]["hint"]


@pytest.mark.postgres
def test_original_plugin_config_json_loads(pg_deployed_project: PrismaProject) -> None:
    """The original plugin's config.json at the same place works unchanged with faber-db."""
    project = pg_deployed_project
    path = project.root / ".fractary/plugins/faber-db/config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(ORIGINAL_CONFIG_JSON, indent=2))

    code, result, stderr = _status(project, DEV_DATABASE_URL=project.database_url)
    assert code == 0, describe(result, stderr)
    assert result["details"]["provider"] == "postgresql"
    assert result["details"]["applied"] == [INIT]

    # each environment reads the variable its connection_string_env names
    code, result, _ = _status(project, "production", DEV_DATABASE_URL=project.database_url)
    assert code == 2
    assert error_code(result) == "DATABASE_URL_MISSING"
    assert "PROD_DATABASE_URL" in result["errors"][0]["message"]
    code, result, stderr = _status(project, "staging", STAGING_DATABASE_URL=project.database_url)
    assert code == 0, describe(result, stderr)


@pytest.fixture
def plugin_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """In-process loads cache into CLAUDE_PLUGIN_DATA: point it at a temp dir, never the user's cache."""
    state = tmp_path_factory.mktemp("plugin-data")
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(state))
    monkeypatch.delenv("FABER_DB_CONFIG", raising=False)
    monkeypatch.delenv("CLAUDE_DB_CWD", raising=False)
    return state


def test_original_config_json_meaning_is_kept(tmp_path: Path, plugin_data: Path) -> None:
    """require_approval / protected_environments / backup_before_migrate keep their meaning."""
    from faber_db.config import load_config

    data = json.loads(json.dumps(ORIGINAL_CONFIG_JSON))
    data["database"]["provider"] = "sqlite"
    data["environments"]["qa"] = {"connection_string_env": "QA_URL"}
    data["safety"]["protected_environments"] = ["production", "qa"]
    path = tmp_path / ".fractary/plugins/faber-db/config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))

    loaded = load_config(tmp_path)
    envs = loaded.config.environments
    assert loaded.path == path
    assert envs["dev"].url_env == "DEV_DATABASE_URL" and not envs["dev"].protected
    assert envs["production"].protected and envs["qa"].protected
    assert not envs["staging"].protected
    assert envs["staging"].backup != "optional"  # backup_before_migrate: true
    assert envs["dev"].backup == "optional"
    assert loaded.config.prisma.migrations_dir == "prisma/migrations"
    assert loaded.config.prisma.timeout_seconds == 300


def test_original_production_ready_config_json_loads(tmp_path: Path, plugin_data: Path) -> None:
    """The original docs' "Production-Ready Configuration" example is accepted as is."""
    from faber_db.config import load_config

    data = json.loads(json.dumps(ORIGINAL_CONFIG_JSON))
    data["database"]["provider"] = "sqlite"
    data["migrations"]["lock_timeout_seconds"] = 60
    data["safety"].update(health_check_after_deploy=True, rollback_on_health_check_failure=True)
    data["backup"].update(auto_cleanup=True, encrypt_backups=True, storage_location="s3://b/backups")
    data["integration"].update(notify_on_failure=True, log_all_operations=True)
    path = tmp_path / ".fractary/plugins/faber-db/config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    data["environments"]["production"]["region"] = "us-east-1"  # the multi-region example
    loaded = load_config(tmp_path)
    assert loaded.config.environments["production"].protected
    assert loaded.config.safety.lock_wait_seconds == 60


def test_toml_wins_over_json_when_both_exist(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "FROM_TOML_URL"}})
    legacy = json.loads(json.dumps(ORIGINAL_CONFIG_JSON))
    legacy["database"]["provider"] = "sqlite"
    (project.root / ".fractary/plugins/faber-db/config.json").write_text(json.dumps(legacy))
    code, result, stderr = _status(project, FROM_TOML_URL=project.database_url)
    assert code == 0, describe(result, stderr)


def test_faber_db_config_overrides_the_path(sqlite_deployed_project: PrismaProject, tmp_path_factory:
                                            pytest.TempPathFactory) -> None:
    project = sqlite_deployed_project
    # the project's own config names a variable we do not set ...
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "UNSET_IN_THIS_TEST"}})
    # ... the override, outside the project, names one we do
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "faber.toml"
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "OVERRIDE_URL"}}, path=elsewhere)

    code, result, stderr = _status(project, FABER_DB_CONFIG=str(elsewhere), OVERRIDE_URL=project.database_url)
    assert code == 0, describe(result, stderr)
    assert result["details"]["applied"] == [INIT]

    # a relative override is relative to the project
    rel = project.root / "ci" / "faber-ci.toml"
    write_config(project.root, "sqlite", environments={"ci": {"url_env": "CI_URL"}}, path=rel)
    code, result, stderr = _status(project, "ci", FABER_DB_CONFIG="ci/faber-ci.toml", CI_URL=project.database_url)
    assert code == 0, describe(result, stderr)

    # an override that points nowhere is an error, not a silent fall back to the project's file
    code, result, _ = _status(project, FABER_DB_CONFIG=str(elsewhere.parent / "missing.toml"),
                              UNSET_IN_THIS_TEST=project.database_url)
    assert code == 2
    assert error_code(result) == "CONFIG_NOT_FOUND"
    assert result["errors"][0]["hint"]


# --- errors naming the key --------------------------------------------------------------------


def test_unknown_key_is_named(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    write_config(project.root, "sqlite", environments={"dev": {"url_env": "DEV_DATABASE_URL", "protectd": True}})
    text = _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert "environments.dev.protectd" in text


def test_unknown_top_level_table_is_named(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    write_config(project.root, "sqlite", extra='\n[prsima]\nschema = "prisma/schema.prisma"\n')
    text = _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert "prsima" in text


def test_wrong_type_is_named(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    write_config(project.root, "sqlite",
                 environments={"dev": {"url_env": "DEV_DATABASE_URL", "protected": "yes please"}})
    text = _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert "environments.dev.protected" in text


@pytest.mark.parametrize("field, value, key", [
    ("backup", "sometimes", "environments.dev.backup"),
    ("url_env", 42, "environments.dev.url_env"),
])
def test_bad_values_are_named(sqlite_deployed_project: PrismaProject, field: str, value: object, key: str) -> None:
    project = sqlite_deployed_project
    env: dict[str, Any] = {"url_env": "DEV_DATABASE_URL"}
    env[field] = value
    write_config(project.root, "sqlite", environments={"dev": env})
    text = _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert key in text


def test_unsupported_provider_in_config(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    write_config(project.root, "mysql")
    text = _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert "database.provider" in text


def test_unknown_key_in_original_config_json_is_named(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    legacy = json.loads(json.dumps(ORIGINAL_CONFIG_JSON))
    legacy["database"]["provider"] = "sqlite"
    legacy["environments"]["dev"]["conection_string_env"] = "X"
    path = project.root / ".fractary/plugins/faber-db/config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(legacy))
    text = _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert "environments.dev.conection_string_env" in text


@pytest.mark.parametrize("content", [
    '[database\nprovider = "sqlite"\n',                    # unclosed table header
    '[database]\nprovider = sqlite\n',                     # bare string
    '[database]\nprovider = "sqlite"\nprovider = "postgresql"\n',  # duplicate key
    "\x00\x01\x02 not toml at all",
], ids=["unclosed-header", "bare-string", "duplicate-key", "binary"])
def test_corrupt_toml(sqlite_deployed_project: PrismaProject, content: str) -> None:
    project = sqlite_deployed_project
    path = project.root / CONFIG_REL
    path.parent.mkdir(parents=True)
    path.write_text(content)
    before = path.read_bytes()
    _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))
    assert path.read_bytes() == before  # never "repaired" behind the user's back


def test_corrupt_original_json(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    path = project.root / ".fractary/plugins/faber-db/config.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"database": {"provider": "sqlite",}')
    _invalid(*_status(project, DEV_DATABASE_URL=project.database_url))


