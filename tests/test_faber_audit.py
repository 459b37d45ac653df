"""FABER phases end to end, the .faber.config.toml merge, and the tamper-evident audit trail."""

from __future__ import annotations

import json

import tomllib
from faber import error_code
from lifecycle import POST_MODEL, USER_MODEL, Lifecycle


def test_the_four_phases_stop_for_approval_then_complete(lifecycle: Lifecycle) -> None:
    """architect → build → evaluate → release (stops at approval) → release --approve."""
    lifecycle.faber("migrate", "dev")  # the project's first migration is already live everywhere it ran
    lifecycle.project.write_schema(USER_MODEL + "\n" + POST_MODEL)

    architect = lifecycle.faber("faber", "architect", "--description", "add posts", "--work-id", "170")
    migration = architect["details"]["steps"][0]["details"]["migration"]
    assert migration["name"].endswith("_add_posts") and (lifecycle.root / migration["path"]).is_dir()

    build = lifecycle.faber("faber", "build")
    assert build["details"]["steps"][0]["details"]["applied"] == [migration["name"]]
    evaluate = lifecycle.faber("faber", "evaluate")
    assert migration["name"] in evaluate["details"]["steps"][0]["details"]["applied"]

    waiting = lifecycle.faber("faber", "release", expect=3)
    assert error_code(waiting) == "APPROVAL_REQUIRED"
    dry_run, refused = waiting["details"]["steps"]
    plan_id = dry_run["details"]["plan"]["plan_id"]
    assert refused["errors"][0]["code"] == "APPROVAL_REQUIRED"
    assert waiting["suggested_fixes"] == [f"faber-db faber release --approve {plan_id}"]
    assert lifecycle.faber("status", "production")["details"]["applied"] == []  # nothing applied yet

    released = lifecycle.faber("faber", "release", "--approve", plan_id)
    # with the person's approval the phase applies the recorded plan (no second dry run)
    (apply_step,) = released["details"]["steps"]
    assert apply_step["command"] == f"faber-db migrate production --approve {plan_id}"
    assert apply_step["details"]["applied"][-1] == migration["name"]
    assert apply_step["details"]["backup"]["verified"] is True
    assert lifecycle.faber("status", "production")["details"]["up_to_date"] is True


def test_init_faber_keeps_other_plugins_settings(lifecycle: Lifecycle) -> None:
    path = lifecycle.root / ".faber.config.toml"
    path.write_text('# team settings\n[plugins.fractary-work]\nboard = "ENG"\nlabels = ["db", "api"]\n\n'
                    '[workflow.build]\npre_build = ["lint"]\n')
    result = lifecycle.faber("init", "--faber")
    data = tomllib.loads(path.read_text())
    assert data["plugins"]["fractary-work"] == {"board": "ENG", "labels": ["db", "api"]}
    assert data["workflow"]["build"]["pre_build"] == ["lint", "faber-db:migrate dev"]
    assert data["workflow"]["release"]["pre_release"] == ["faber-db:migrate production --dry-run",
                                                           "faber-db:migrate production"]
    assert any("comments" in w for w in result["warnings"]), "the lost comment must be said"
    before = path.read_bytes()
    lifecycle.faber("init", "--faber")
    assert path.read_bytes() == before, "a second run changes nothing"


def test_init_faber_appends_to_a_file_without_workflow_keeping_comments(lifecycle: Lifecycle) -> None:
    path = lifecycle.root / ".faber.config.toml"
    original = "# team settings\n[plugins.fractary-work]\nboard = \"ENG\"  # the board\n"
    path.write_text(original)
    result = lifecycle.faber("init", "--faber")
    assert path.read_text().startswith(original) and result["warnings"] == []
    assert "faber-db:migrate staging" in tomllib.loads(path.read_text())["workflow"]["evaluate"]["pre_evaluate"]


def test_editing_or_deleting_an_audit_line_is_named(lifecycle: Lifecycle) -> None:
    lifecycle.faber("migrate", "dev")
    lifecycle.faber("backup", "dev")
    lifecycle.faber("migrate", "production", expect=3)
    verified = lifecycle.faber("audit", "--verify")
    assert verified["details"]["verified"] is True and verified["details"]["total"] == 3
    assert lifecycle.faber("audit", "production")["details"]["entries"][0]["operation"] == "migrate"

    path = lifecycle.root / ".fractary" / "plugins" / "faber-db" / "audit.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["status"] = "success" if record["status"] != "success" else "warning"
    edited = [lines[0], json.dumps(record, sort_keys=True), lines[2]]
    path.write_text("\n".join(edited) + "\n")
    tampered = lifecycle.faber("audit", "--verify", expect=1)
    assert error_code(tampered) == "AUDIT_TAMPERED"
    assert [p["line"] for p in tampered["details"]["problems"]] == [2]
    assert "line 2" in tampered["message"]

    path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # a deleted line
    deleted = lifecycle.faber("audit", "--verify", expect=1)
    assert [p["line"] for p in deleted["details"]["problems"]] == [2]
    assert "deleted" in deleted["details"]["problems"][0]["problem"]
