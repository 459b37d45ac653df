"""Schema <-> history drift as a gate (issue: real databases, item 3), on the corpus histories.

Each corpus history documents where its schema and its migrations disagree (tests/corpus/*/expected:
hand-written GIN/trigram and partial indexes the schema cannot declare, an index the schema declares
that no migration creates). `faber-db status ENV --drift` must name exactly those, as its own finding
(`SCHEMA_DRIFT`, exit 1) beside database drift, and `health-check` must call the database degraded.
The databases are the corpus templates (the whole history deployed by the real Prisma CLI, seed rows
loaded), so database drift is empty: what is found is the schema's disagreement alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import corpus
import pytest
from corpus import deploy
from corpus.deploy import CorpusTemplates
from faber import error_code, run_faber, write_config
from harness import PostgresServer, copy_sqlite, sqlite_url

PG = [name for name in corpus.names() if corpus.provider(name) == "postgresql"]
SQLITE = [name for name in corpus.names() if corpus.provider(name) == "sqlite"]
SCHEMA_ONLY = "declared in the schema, created by no migration"
HISTORY_ONLY = "created by the migrations, not in the schema"
CHANGED = "differs between the schema and the migrations"


@pytest.fixture(scope="module")
def templates(pg_server: PostgresServer, kit_node_modules: Path) -> CorpusTemplates:
    return deploy.corpus_templates(pg_server, kit_node_modules)


def _documented(name: str) -> set[tuple[str, str]]:
    """(change, index) for each difference the history documents that Prisma's diff can see."""
    drift = corpus.schema_drift(name)
    return ({(HISTORY_ONLY, item.name) for item in drift.created_not_declared if item.seen_by_prisma}
            | {(SCHEMA_ONLY, item.name) for item in drift.declared_not_created if item.seen_by_prisma})


def _check(project_root: Path, name: str, url: str) -> None:
    env = {"DEV_DATABASE_URL": url}
    status = run_faber(project_root, "status", "dev", "--drift", env=env, timeout=600)
    assert status.returncode == 1, status.stdout + status.stderr  # a gate CI can fail on
    result: dict[str, Any] = status.json
    assert error_code(result) == "SCHEMA_DRIFT"
    assert [e["code"] for e in result["errors"]] == ["SCHEMA_DRIFT"], "no database drift on a deployed history"
    assert result["details"]["drift"] == []
    found = {(step["change"], step["object"]) for step in result["details"]["schema_drift"]}
    assert found == _documented(name)
    assert all(step["statement"] for step in result["details"]["schema_drift"])
    some_index = sorted(index for _, index in found)[0]
    assert some_index in result["message"] or "more" in result["message"]

    health = run_faber(project_root, "health-check", "dev", "--checks", "connectivity,schema", env=env, timeout=600)
    assert health.returncode == 0, health.stderr
    checks = {c["name"]: c for c in health.json["details"]["checks"]}
    assert health.json["details"]["level"] == "degraded"
    assert checks["schema"]["status"] == "warn"
    assert "the schema and the migrations differ" in checks["schema"]["message"]
    assert {(s["change"], s["object"]) for s in checks["schema"]["data"]["schema_drift"]} == found


@pytest.mark.postgres
@pytest.mark.parametrize("name", PG)
def test_pg_status_drift_names_the_schemas_disagreement_with_the_history(
    name: str, pg_server: PostgresServer, templates: CorpusTemplates, kit_node_modules: Path, tmp_path: Path
) -> None:
    assert _documented(name), f"{name} documents no drift Prisma can see"
    project = deploy.write_project(name, tmp_path / "project", kit_node_modules)
    folder = corpus.schema_path(name).is_dir()  # a schema split into a folder
    write_config(project.root, "postgresql", extra='[prisma]\nschema = "prisma/schema"\n' if folder else "")
    dbname = deploy.clone_owned(pg_server, templates.pg(name))
    try:
        # as the server's admin role: the replay and Prisma's shadow database need CREATEDB, which the
        # corpus owner lacks (a production role without it configures a shadow database instead)
        _check(project.root, name, pg_server.url(dbname))
    finally:
        pg_server.drop_database(dbname)


@pytest.mark.parametrize("name", SQLITE)
def test_sqlite_status_drift_names_the_schemas_disagreement_with_the_history(
    name: str, kit_node_modules: Path, tmp_path: Path
) -> None:
    assert _documented(name), f"{name} documents no drift Prisma can see"
    project = deploy.write_project(name, tmp_path / "project", kit_node_modules)
    write_config(project.root, "sqlite")
    built = deploy.corpus_templates(None, kit_node_modules).sqlite(name)
    database = copy_sqlite(built, tmp_path / "dev.db")
    _check(project.root, name, sqlite_url(database))


def test_a_field_no_migration_holds_is_schema_drift_until_a_migration_is_generated(
    kit_node_modules: Path, tmp_path: Path
) -> None:
    """The other direction: a field added to the schema is drift (its table differs) until
    generate-migration writes the migration; then the folder and the schema agree, whatever the
    database has applied."""
    name = SQLITE[0]
    project = deploy.write_project(name, tmp_path / "project", kit_node_modules)
    write_config(project.root, "sqlite")
    database = copy_sqlite(deploy.corpus_templates(None, kit_node_modules).sqlite(name), tmp_path / "dev.db")
    env = {"DEV_DATABASE_URL": sqlite_url(database)}
    text = project.schema_path.read_text()
    model = text.index("model ")
    table = text[model:].split()[1]
    brace = text.index("{", model)
    project.schema_path.write_text(text[:brace + 1] + "\n  faberDriftProbe String?" + text[brace + 1:])

    before = run_faber(project.root, "status", "dev", "--drift", env=env, timeout=600)
    assert before.returncode == 1 and error_code(before.json) == "SCHEMA_DRIFT"
    probe = [s for s in before.json["details"]["schema_drift"] if "faberDriftProbe" in s["statement"]]
    assert [(s["change"], s["object"]) for s in probe] == [(CHANGED, table)], before.json["details"]["schema_drift"]

    generated = run_faber(project.root, "generate-migration", "add the probe", env=env, timeout=600)
    assert generated.returncode == 0, generated.stdout
    after = run_faber(project.root, "status", "dev", "--drift", env=env, timeout=600)
    assert after.returncode == 0, after.stdout
    assert after.json["details"]["schema_drift"] == [] and after.json["details"]["drift"] == []
    assert after.json["details"]["pending"] == [generated.json["details"]["migration"]["name"]]
