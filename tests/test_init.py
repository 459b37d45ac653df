"""`faber-db init` in real Prisma projects: what it detects, what it writes, and when it refuses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from faber import describe, error_code, run_faber, tree_snapshot
from harness import PrismaProject, make_project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_REL = Path(".fractary/plugins/faber-db/config.toml")

pytestmark = pytest.mark.prisma_majors  # the tests that build a project run on Prisma 6.15 and 7.10.1


def _init(root: Path, *args: str, **env: str | None) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    return run_faber(root, "init", *args, env=env)


@pytest.mark.parametrize("provider", ["sqlite", "postgresql"])
def test_init_detects_the_project_and_writes_toml(tmp_path: Path, kit_node_modules: Path, provider: str) -> None:
    project = make_project(tmp_path, provider, node_modules=kit_node_modules)  # type: ignore[arg-type]
    code, result, stderr = _init(project.root)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "success", describe(result, stderr)  # Prisma is installed: nothing to warn about
    assert result["operation"] == "init"

    path = project.root / CONFIG_REL
    config = tomllib.loads(path.read_text())
    assert config["database"]["provider"] == provider
    assert config["prisma"]["schema"] == "prisma/schema.prisma"
    assert config["prisma"]["migrations_dir"] == "prisma/migrations"
    assert config["prisma"]["config_file"] == "prisma.config.ts"
    # URLs never go into the file: environments name variables
    assert {name: env["url_env"] for name, env in config["environments"].items()} == {
        "dev": "DEV_DATABASE_URL", "staging": "STAGING_DATABASE_URL", "production": "PROD_DATABASE_URL"}
    assert config["environments"]["production"]["protected"] is True
    assert config["environments"]["dev"]["protected"] is False
    assert "://" not in path.read_text()

    details = result["details"]
    assert details["config_path"] == str(CONFIG_REL)
    assert details["written"] is True
    assert details["provider"] == provider
    assert details["schema"] == "prisma/schema.prisma"
    assert details["migrations_dir"] == "prisma/migrations"
    assert details["prisma_config"] == "prisma.config.ts"
    assert details["prisma_version"] == project.version
    assert details["datasource_url_env"] == ["DATABASE_URL"] and details["datasource_shadow_env"] is None


@pytest.mark.prisma_majors(7)  # shadowDatabaseUrl in prisma.config.ts is Prisma 7's
def test_init_reads_the_variables_the_prisma7_config_names(tmp_path: Path, kit_node_modules: Path) -> None:
    """prisma.config.ts reads APP_DB and APP_SHADOW_DB: init says so, and the shadow database variable
    becomes dev's shadow database (the developer's, as Prisma itself would use it)."""
    project = make_project(tmp_path, "postgresql", node_modules=kit_node_modules, url_env="APP_DB",
                           shadow_env="APP_SHADOW_DB")
    code, result, stderr = _init(project.root)
    assert code == 0, describe(result, stderr)
    assert result["details"]["datasource_url_env"] == ["APP_DB"]
    assert result["details"]["datasource_shadow_env"] == "APP_SHADOW_DB"
    config = tomllib.loads((project.root / CONFIG_REL).read_text())
    assert config["environments"]["dev"]["shadow_url_env"] == "APP_SHADOW_DB"
    assert "shadow_url_env" not in config["environments"]["production"]


@pytest.mark.parametrize("provider", ["sqlite", "postgresql"])
def test_init_detects_a_schema_folder(tmp_path: Path, kit_node_modules: Path, provider: str) -> None:
    project = make_project(tmp_path, provider, node_modules=kit_node_modules, schema_folder=True)  # type: ignore[arg-type]
    assert not (tmp_path / "prisma" / "schema.prisma").exists()
    code, result, stderr = _init(project.root)
    assert code == 0, describe(result, stderr)
    config = tomllib.loads((project.root / CONFIG_REL).read_text())
    assert config["database"]["provider"] == provider
    assert config["prisma"]["schema"] == "prisma/schema"
    assert config["prisma"]["migrations_dir"] == "prisma/migrations"


def test_init_warns_when_the_url_is_hard_coded(tmp_path: Path, kit_node_modules: Path) -> None:
    project = make_project(tmp_path, "sqlite", node_modules=kit_node_modules)
    config_ts, schema = project.root / "prisma.config.ts", project.schema_path
    if project.major >= 7:
        config_ts.write_text(config_ts.read_text().replace('url: env("DATABASE_URL")', 'url: "file:./dev.db"'))
    else:
        schema.write_text(schema.read_text().replace('env("DATABASE_URL")', '"file:./dev.db"'))
        config_ts.write_text(config_ts.read_text().replace("process.env.DATABASE_URL!", '"file:./dev.db"'))
    code, result, stderr = _init(project.root)
    assert code == 0, describe(result, stderr)
    assert result["status"] == "warning"
    assert result["details"]["datasource_url_env"] == []
    [warning] = result["warnings"]
    assert "not a variable" in warning or "literal URL" in warning, warning
    assert "env(" in warning and "file:./dev.db" not in warning, "the URL itself is never repeated"


def test_written_config_works_for_status(sqlite_deployed_project: PrismaProject) -> None:
    project = sqlite_deployed_project
    code, result, stderr = _init(project.root)
    assert code == 0, describe(result, stderr)
    code, result, stderr = run_faber(project.root, "status", "dev", env={"DEV_DATABASE_URL": project.database_url})
    assert code == 0, describe(result, stderr)
    assert result["details"]["applied"] == ["20240101000000_init"]


def test_init_follows_prisma_config_paths(tmp_path: Path, kit_node_modules: Path) -> None:
    """A schema and migrations folder somewhere else, declared in prisma.config.ts, are what init records."""
    project = make_project(tmp_path, "sqlite", node_modules=kit_node_modules)
    (tmp_path / "db").mkdir()
    project.schema_path.rename(tmp_path / "db" / "main.prisma")
    (tmp_path / "prisma").rmdir()
    config_ts = tmp_path / "prisma.config.ts"
    config_ts.write_text(config_ts.read_text()
                         .replace('schema: "prisma/schema.prisma"', 'schema: "db/main.prisma"')
                         .replace('path: "prisma/migrations"', 'path: "db/history"'))
    code, result, stderr = _init(tmp_path)
    assert code == 0, describe(result, stderr)
    config = tomllib.loads((tmp_path / CONFIG_REL).read_text())
    assert config["prisma"]["schema"] == "db/main.prisma"
    assert config["prisma"]["migrations_dir"] == "db/history"


def test_init_refuses_to_overwrite_then_force_rewrites(sqlite_project: PrismaProject) -> None:
    root = sqlite_project.root
    code, result, stderr = _init(root)
    assert code == 0, describe(result, stderr)
    path = root / CONFIG_REL
    # the user edits their config
    edited = path.read_text().replace('url_env = "DEV_DATABASE_URL"', 'url_env = "MY_DEV_URL"')
    assert edited != path.read_text()
    path.write_text(edited)
    before = path.read_bytes()
    snapshot = tree_snapshot(root)

    code, result, stderr = _init(root)
    assert code == 2, describe(result, stderr)
    assert result["status"] == "failure"
    assert error_code(result) == "CONFIG_EXISTS"
    assert "--force" in result["errors"][0]["hint"]
    assert path.read_bytes() == before, "a refused init must leave the file byte for byte"
    assert tree_snapshot(root) == snapshot

    code, result, stderr = _init(root, "--force")
    assert code == 0, describe(result, stderr)
    assert 'url_env = "DEV_DATABASE_URL"' in path.read_text()
    assert "MY_DEV_URL" not in path.read_text()


def test_init_refuses_when_original_config_json_exists(sqlite_project: PrismaProject) -> None:
    root = sqlite_project.root
    legacy = root / ".fractary/plugins/faber-db/config.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text('{"database": {"provider": "sqlite"}, "environments": {"dev": {}}}')
    snapshot = tree_snapshot(root)
    code, result, stderr = _init(root)
    assert code == 2, describe(result, stderr)
    assert error_code(result) == "CONFIG_EXISTS"
    assert tree_snapshot(root) == snapshot


def test_init_honours_faber_db_config(sqlite_project: PrismaProject) -> None:
    root = sqlite_project.root
    code, result, stderr = _init(root, FABER_DB_CONFIG="config/faber.toml")
    assert code == 0, describe(result, stderr)
    assert (root / "config/faber.toml").is_file()
    assert not (root / CONFIG_REL).exists()
    assert tomllib.loads((root / "config/faber.toml").read_text())["database"]["provider"] == "sqlite"


def test_no_prisma_schema(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "not-prisma-yet"}\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.ts").write_text("console.log('hi')\n")
    snapshot = tree_snapshot(tmp_path)
    code, result, stderr = _init(tmp_path)
    assert code == 2, describe(result, stderr)
    assert error_code(result) == "SCHEMA_NOT_FOUND"
    assert result["errors"][0]["hint"]
    assert tree_snapshot(tmp_path) == snapshot, "nothing may be written"
    assert not (tmp_path / ".fractary").exists()


@pytest.mark.parametrize("provider", ["mysql", "mongodb", "sqlserver"])
def test_unsupported_provider(tmp_path: Path, kit_node_modules: Path, provider: str) -> None:
    project = make_project(tmp_path, "sqlite", node_modules=kit_node_modules)
    project.schema_path.write_text(project.schema_path.read_text().replace('provider = "sqlite"',
                                                                           f'provider = "{provider}"'))
    snapshot = tree_snapshot(tmp_path)
    code, result, stderr = _init(tmp_path)
    assert code == 2, describe(result, stderr)
    assert error_code(result) == "PROVIDER_UNSUPPORTED"
    assert provider in result["message"]
    assert "sqlite" in result["errors"][0]["hint"] and "postgresql" in result["errors"][0]["hint"]
    assert tree_snapshot(tmp_path) == snapshot


def test_schema_without_datasource(tmp_path: Path) -> None:
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text("model A {\n  id Int @id\n}\n")
    snapshot = tree_snapshot(tmp_path)
    code, result, stderr = _init(tmp_path)
    assert code == 2, describe(result, stderr)
    assert error_code(result) == "PROVIDER_UNSUPPORTED"
    assert tree_snapshot(tmp_path) == snapshot


def test_commented_out_provider_is_not_used(tmp_path: Path) -> None:
    """`// provider = "mysql"` above the real line: the real one counts."""
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text(
        'datasource db {\n  // provider = "mysql"\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n')
    code, result, stderr = _init(tmp_path)
    assert code == 0, describe(result, stderr)
    assert result["details"]["provider"] == "postgresql"
    # Prisma is not installed here: a warning that says so, still exit 0
    assert result["status"] == "warning"
    assert any("prisma" in w.lower() for w in result["warnings"])


CONFIG_FORMS = [
    ('url: env("APP_DB")', ["APP_DB"]),
    ("url: process.env.APP_DB!", ["APP_DB"]),
    ('url: process.env["APP_DB"] ?? "file:./fallback.db"', ["APP_DB"]),
    ("url: process.env.APP_DB as string", ["APP_DB"]),
    ("url: databaseUrl", ["APP_DB"]),  # const databaseUrl = env("APP_DB") above the config
    ("url", ["APP_DB"]),  # shorthand for url: url
    ('url: "postgresql://app:s3cret@db.internal/app"', []),
    ("url: makeUrl()", []),
]


@pytest.mark.prisma_majors(7)
@pytest.mark.parametrize(("entry", "variables"), CONFIG_FORMS, ids=[
    "env", "process-env", "fallback", "as-string", "const", "shorthand", "literal", "computed"])
def test_init_reads_the_variable_of_each_way_a_config_writes_the_url(
        tmp_path: Path, kit_node_modules: Path, entry: str, variables: list[str]) -> None:
    """What prisma.config.ts's datasource.url reads, however it is written (comments that name other
    variables do not count); a literal or computed URL is reported, never repeated."""
    project = make_project(tmp_path, "postgresql", node_modules=kit_node_modules)
    config_ts = project.root / "prisma.config.ts"
    text = config_ts.read_text().replace('url: env("DATABASE_URL")', entry)
    text = text.replace("export default", '// url: env("DECOY_URL")\n'
                        'const databaseUrl = env("APP_DB");\nconst url = env("APP_DB");\n'
                        "const makeUrl = () => `postgresql://${process.env.USER}@localhost/app`;\n\nexport default")
    config_ts.write_text(text)
    code, result, stderr = _init(project.root)
    assert code == 0, describe(result, stderr)
    assert result["details"]["datasource_url_env"] == variables
    if not variables:
        assert result["status"] == "warning" and "s3cret" not in str(result), result["warnings"]
