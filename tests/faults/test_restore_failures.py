"""Restores that cannot succeed, on the realistic PostgreSQL database of harness.traits as its owner:
each fails inside its one transaction, says why in the message (the server's or the tool's own
words), carries the tool's redacted stderr in the result's details, and changes nothing."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from harness import PostgresServer, PrismaProject, traits

from .helpers import approve_args, errcode, execute, faber, init_faber

BACKUPS = Path(".fractary/plugins/faber-db/backups/production")


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def backup(project: PrismaProject, env: dict[str, str]) -> str:
    code, result, _ = faber(project, env, "backup", "production")
    assert code == 0, result
    backup_id: str = result["details"]["backup"]["id"]
    return backup_id


def restore(project: PrismaProject, env: dict[str, str], backup_id: str) -> tuple[int, dict[str, Any]]:
    code, dry, _ = faber(project, env, "restore", "production", "--from", backup_id, "--dry-run")
    assert code == 0, dry
    code, result, _ = faber(project, env, "restore", "production", "--from", backup_id,
                            "--approve", dry["details"]["plan_id"])
    return code, result


def assert_failed_and_told(result: dict[str, Any], code: int, words: str) -> str:
    """RESTORE_FAILED (exit 1), `words` in the message and in the stderr of details; no secret."""
    shown = json.dumps(result, indent=1)
    assert code == 1 and errcode(result) == "RESTORE_FAILED", shown
    assert words in result["message"], shown
    stderr: str = result["details"]["error_details"]["stderr"]
    assert words in stderr, shown
    assert "stderr" in result["errors"][0]["hint"], shown
    assert traits.OWNER_PASSWORD not in shown and "postgresql://" not in shown, shown
    return stderr


@pytest.mark.postgres
def test_a_role_the_backup_grants_to_is_gone(traits_project: PrismaProject, pg_server: PostgresServer) -> None:
    project = traits_project
    assert project.database_name is not None
    role = f"gone_{secrets.token_hex(4)}"
    with pg_server.admin_connection() as conn:
        conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    execute(project, [(f'GRANT SELECT ON "public"."Post" TO "{role}"', ())])
    env = init_faber(project)
    backup_id = backup(project, env)
    execute(project, [(f'REVOKE SELECT ON "public"."Post" FROM "{role}"', ()),
                      ('DELETE FROM "public"."Post" WHERE "published"', ())])
    with pg_server.admin_connection() as conn:
        conn.execute(f'DROP ROLE "{role}"')
    before = traits.exact_state(pg_server, project.database_name)

    code, result = restore(project, env, backup_id)

    assert_failed_and_told(result, code, f'role "{role}" does not exist')
    assert "create the role" in result["errors"][0]["hint"]
    assert differences(before, traits.exact_state(pg_server, project.database_name)) == []


@pytest.mark.postgres
def test_an_archive_damaged_before_it_was_checksummed(traits_project: PrismaProject,
                                                      pg_server: PostgresServer) -> None:
    """Bytes in the middle of the dump are bad, yet the manifest's sha256 matches them (the file was
    damaged before faber-db checksummed it): pg_restore or the server rejects what it reads."""
    project = traits_project
    assert project.database_name is not None
    env = init_faber(project)
    backup_id = backup(project, env)
    folder = project.root / BACKUPS
    dump = folder / f"{backup_id}.dump"
    data = bytearray(dump.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 64, 8):
        data[offset] ^= 0xFF
    dump.write_bytes(bytes(data))
    manifest = json.loads((folder / f"{backup_id}.json").read_text("utf-8"))
    manifest["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / f"{backup_id}.json").write_text(json.dumps(manifest), "utf-8")
    execute(project, [('UPDATE "public"."User" SET "name" = \'after the backup\'', ())])
    before = traits.exact_state(pg_server, project.database_name)

    code, result = restore(project, env, backup_id)

    assert "rolled back" in result["message"], json.dumps(result, indent=1)
    error = result["message"].rsplit("): ", 1)[-1]  # the first error line psql or pg_restore printed
    assert_failed_and_told(result, code, error)
    assert differences(before, traits.exact_state(pg_server, project.database_name)) == []


@pytest.mark.postgres
def test_an_automatic_restore_that_cannot_run_says_why(traits_project: PrismaProject,
                                                       pg_server: PostgresServer) -> None:
    """A view in a schema the backup does not cover reads a restored table: the automatic restore
    after the failed migration refuses (a CASCADE would drop the view), and the result says so
    with the server's words, the stderr, and the backup to restore by hand."""
    project = traits_project
    assert project.database_name is not None
    execute(project, [('CREATE SCHEMA "reporting"', ()),
                      ('CREATE VIEW "reporting"."emails" AS SELECT "email" FROM "public"."User"', ())])
    env = init_faber(project)
    project.add_migration("20250101000000_fails", 'UPDATE "public"."User" SET "name" = \'x\' WHERE "id" > 0;\n'
                                                  'SELECT 1 / 0;\n')

    # the UPDATE ... WHERE rewrites live rows: destructive, so the person names it
    code, result, _ = faber(project, env, "migrate", "production", *approve_args(project, env),
                            "--allow-destructive")

    shown = json.dumps(result, indent=1)
    assert code == 1 and errcode(result) == "MIGRATION_FAILED", shown
    details = result["details"]
    assert details["restored"] is False, shown
    restore_error = details["error_details"]["restore_error"]
    assert restore_error["code"] == "RESTORE_FAILED" and 'reporting.emails' in restore_error["message"], shown
    assert "reporting.emails" in restore_error["stderr"], shown
    assert any("reporting.emails" in w for w in result["warnings"]), shown
    assert f"faber-db restore production --from {details['backup']['id']}" in result["suggested_fixes"][0]
    assert traits.OWNER_PASSWORD not in shown
