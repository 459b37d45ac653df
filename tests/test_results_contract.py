"""The result contract (PRODUCT.md, "The result every script prints"): one envelope with fixed keys and
types, exit codes that follow errors[0].code through faber_db.errors.ERROR_CODES, JSON when stdout
is not a terminal, text with --format text or at a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faber import (
    ENVELOPE_KEYS,
    describe,
    error_code,
    faber_argv,
    faber_env,
    run_faber,
    write_config,
)
from faber_db.errors import ERROR_CODES, EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from harness import PrismaProject, free_port

INIT = "20240101000000_init"
ENVS = {
    "dev": {"url_env": "DEV_DATABASE_URL"},
    "production": {"url_env": "PROD_DATABASE_URL", "protected": True, "backup": "required"},
}

def _urls(p: PrismaProject) -> dict[str, str]:
    assert p.database_url is not None
    return {"DEV_DATABASE_URL": p.database_url, "PROD_DATABASE_URL": p.database_url}


def _pending(p: PrismaProject) -> dict[str, str]:
    p.add_migration("20240202000000_add_nickname", 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n')
    return _urls(p)


def _closed_port(p: PrismaProject) -> dict[str, str]:
    write_config(p.root, "postgresql", environments=ENVS)
    return {"DEV_DATABASE_URL": f"postgresql://u:pw@127.0.0.1:{free_port()}/app"}


# name -> (setup returning env, argv, expected status, expected exit, expected error code)
SCENARIOS: dict[str, tuple[Callable[[PrismaProject], dict[str, str]], list[str], str, int, str | None]] = {
    "status-success": (_urls, ["status", "dev"], "success", EXIT_OK, None),
    "status-warning": (_pending, ["status", "dev"], "warning", EXIT_OK, None),
    "status-unknown-env": (_urls, ["status", "qa"], "failure", EXIT_USAGE, "UNKNOWN_ENVIRONMENT"),
    "status-url-missing": (lambda p: {}, ["status", "dev"], "failure", EXIT_USAGE, "DATABASE_URL_MISSING"),
    "status-unreachable": (_closed_port, ["status", "dev"], "failure", EXIT_FAILED, "DATABASE_UNREACHABLE"),
    "init-exists": (_urls, ["init"], "failure", EXIT_USAGE, "CONFIG_EXISTS"),
    "init-force": (_urls, ["init", "--force"], "success", EXIT_OK, None),
    "migrate-dry-run": (_pending, ["migrate", "dev", "--dry-run"], "success", EXIT_OK, None),
    "migrate-protected-unapproved": (_pending, ["migrate", "production"], "failure", EXIT_REFUSED,
                                     "APPROVAL_REQUIRED"),
    "migrate-wrong-plan": (_pending, ["migrate", "production", "--approve", "0000000000000000"], "failure",
                           EXIT_REFUSED, "PLAN_UNKNOWN"),
    "migrate-skip-required-backup": (_pending, ["migrate", "production", "--skip-backup", "--approve", "x"],
                                     "failure", EXIT_REFUSED, None),
    "usage": (_urls, ["status", "dev", "--nope"], "failure", EXIT_USAGE, "USAGE"),
    "no-command": (_urls, [], "failure", EXIT_USAGE, "USAGE"),
}


@pytest.fixture
def project(sqlite_deployed_project: PrismaProject) -> PrismaProject:
    write_config(sqlite_deployed_project.root, "sqlite", environments=ENVS)
    return sqlite_deployed_project


def check_envelope(result: dict[str, Any], exit_code: int) -> None:
    """Everything PRODUCT.md promises about any result."""
    text = describe(result)
    assert set(result) == ENVELOPE_KEYS, text
    assert result["status"] in ("success", "warning", "failure"), text
    assert isinstance(result["operation"], str) and result["operation"], text
    assert result["environment"] is None or isinstance(result["environment"], str), text
    assert isinstance(result["message"], str) and result["message"].strip(), text
    assert result["details"] is None or isinstance(result["details"], dict), text
    for key in ("warnings", "suggested_fixes"):
        assert isinstance(result[key], list) and all(isinstance(x, str) for x in result[key]), text
    assert isinstance(result["errors"], list), text
    for error in result["errors"]:
        assert set(error) == {"code", "message", "hint"}, text
        assert error["code"] in ERROR_CODES, f"undocumented error code {error['code']}"
        assert isinstance(error["message"], str) and error["message"], text
        assert isinstance(error["hint"], str), text
    assert isinstance(result["duration_ms"], int) and not isinstance(result["duration_ms"], bool), text
    assert result["duration_ms"] >= 0, text
    # exit codes follow the first error's code; success and warning exit 0 and carry no errors
    if result["status"] == "failure":
        assert result["errors"], "a failure says why"
        assert exit_code == ERROR_CODES[result["errors"][0]["code"]].exit_code, text
    else:
        assert exit_code == EXIT_OK, text
        assert result["errors"] == [], text


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_envelope_and_exit_code(project: PrismaProject, name: str) -> None:
    setup, argv, status, exit_code, code = SCENARIOS[name]
    env = setup(project)
    got_exit, result, stderr = run_faber(project.root, *argv, env=env)
    check_envelope(result, got_exit)
    assert result["status"] == status, describe(result, stderr)
    assert got_exit == exit_code, describe(result, stderr)
    if code is not None:
        assert error_code(result) == code, describe(result, stderr)
    if argv and argv[0] in ("status", "migrate"):
        assert result["operation"] == argv[0]
        if result["status"] != "failure" or code in ("APPROVAL_REQUIRED", "PLAN_CHANGED", "DATABASE_UNREACHABLE"):
            assert result["environment"] == argv[1]
    # the checked-in JSON Schema of the operation describes the real output
    jsonschema = pytest.importorskip("jsonschema")
    schema_file = Path(__import__("faber_db").__file__).parent / "schemas" / f"{result['operation']}.schema.json"
    if schema_file.is_file():
        jsonschema.validate(result, json.loads(schema_file.read_text()))


def test_every_error_code_has_a_documented_exit_code() -> None:
    assert ERROR_CODES
    for code, spec in ERROR_CODES.items():
        assert code == code.upper() and " " not in code
        assert spec.exit_code in (EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED), code
        assert spec.summary.strip(), code


def test_text_format_is_for_people(project: PrismaProject) -> None:
    env = _urls(project)
    as_json = run_faber(project.root, "status", "dev", env=env)
    as_text = run_faber(project.root, "status", "dev", "--format", "text", env=env)
    assert as_json.returncode == as_text.returncode == 0
    message = json.loads(as_json.stdout)["message"]
    assert message in as_text.stdout
    assert INIT in as_text.stdout
    with pytest.raises(ValueError):
        json.loads(as_text.stdout)
    # --format json is JSON, wherever the option goes
    for argv in (["--format", "json", "status", "dev"], ["status", "dev", "--format=json"]):
        proc = run_faber(project.root, *argv, env=env)
        assert json.loads(proc.stdout)["message"] == message
    # a failure renders as text too, with the same exit code and the error code visible
    failed = run_faber(project.root, "status", "qa", "--format", "text", env=env)
    assert failed.returncode == 2
    assert "UNKNOWN_ENVIRONMENT" in failed.stdout


def _run_on_terminal(project: PrismaProject, *args: str) -> tuple[int, str]:
    """stdout is a pseudo-terminal, as for a person in a shell."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([*faber_argv(), *args], cwd=project.root, env=faber_env(_urls(project)),
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
        assert proc.stderr is not None
        proc.stderr.close()
        return proc.returncode, b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(master)


def test_terminal_gets_text_unless_json_is_asked_for(project: PrismaProject) -> None:
    code, out = _run_on_terminal(project, "status", "dev")
    assert code == 0
    assert "dev is up to date" in out or "up to date" in out
    assert not out.lstrip().startswith("{")
    code, out = _run_on_terminal(project, "status", "dev", "--format", "json")
    assert code == 0
    assert json.loads(out.replace("\r\n", "\n"))["details"]["applied"] == [INIT]


def test_progress_goes_to_stderr_not_stdout(project: PrismaProject) -> None:
    """A run that reports progress (a dry run) still has exactly one JSON object on stdout."""
    env = _pending(project)
    code, result, stderr = run_faber(project.root, "migrate", "dev", "--dry-run", env=env)
    assert code == 0, describe(result, stderr)
    assert result["details"]["plan"]["pending"][0]["name"] == "20240202000000_add_nickname"
