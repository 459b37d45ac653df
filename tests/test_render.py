"""The text rendering of every result type (`--format text`), snapshot-tested.

Each case builds a realistic result from the dataclasses (values taken from real runs of the demo), renders
it without colour and compares it with `tests/snapshots/<case>.txt`. `UPDATE_SNAPSHOTS=1 pytest
tests/test_render.py` rewrites the snapshots; read the diff as a new user would before committing it.
Every rendering also keeps to 80 columns (SQL lines excepted) and never dumps JSON.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faber_db import render
from faber_db.commands.audit import AuditDetails
from faber_db.commands.generate import GenerateDetails, MigrationFile
from faber_db.commands.health import HealthDetails
from faber_db.health import Check
from faber_db.operations.backup import BackupDetails, BackupEntry, BackupsDetails
from faber_db.operations.db_create import DbCreateDetails
from faber_db.operations.faber import PhaseDetails
from faber_db.operations.migrate import MigrateDetails, MigratePlan, PlannedMigration
from faber_db.operations.restore import RestoreDetails
from faber_db.operations.rollback import Alternative, RollbackDetails, RollbackTarget
from faber_db.render import SQL_LINE, render_result
from faber_db.results import ErrorInfo, Finding, InitDetails, Result, StatusDetails
from faber_db.schema import OPERATION_DETAILS
from faber_db.workflow import BackupRef, Step
from hypothesis import given, settings
from hypothesis import strategies as st

SNAPSHOTS = Path(__file__).parent / "snapshots"
NARROW = 50  # a narrow terminal: every case is also snapshot at this width, in snapshots/50-columns/
TEMPLATES = Path(render.__file__).parent / "templates"
ESC = "\x1b["

USERS = "20261124182047_create_users"
POSTS = "20261124182052_add_posts"
NAMES = "29990101000000_unique_names"
AUDIT = "appended to .fractary/plugins/faber-db/audit.jsonl"
USERS_SQL = """-- CreateTable
CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
"""
POSTS_SQL = """-- CreateTable
CREATE TABLE "Post" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "title" TEXT NOT NULL,
    "body" TEXT,
    "authorId" INTEGER NOT NULL,
    CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") \
ON DELETE RESTRICT ON UPDATE CASCADE
);
"""
DROP_POSTS = '-- DropTable\nPRAGMA foreign_keys=off;\nDROP TABLE "Post";\nPRAGMA foreign_keys=on;\n'
NAMES_SQL = 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\nCREATE UNIQUE INDEX "User_name_key" ON "User"("name");\n'
# a long migration: 50 statements, a destructive one far past the preview's 40 lines
LONG_SQL = "".join(f'ALTER TABLE "Event" ADD COLUMN "c{i}" TEXT;\n' for i in range(1, 45)) + (
    'ALTER TABLE "Event" DROP COLUMN "legacy";\n'
    + "".join(f'CREATE INDEX "Event_c{i}_idx" ON "Event"("c{i}");\n' for i in range(1, 6))
)


def backup_ref(backup_id: str = "20261124T182117Z-d76a", env: str = "production", size: int = 28672) -> BackupRef:
    return BackupRef(backup_id, f".fractary/plugins/faber-db/backups/{env}/{backup_id}.sqlite", True, size)


def entry(backup_id: str, label: str | None, migrations: list[str], *, size: int = 28672,
          verified: bool = True) -> BackupEntry:
    b = backup_id
    stamp = f"{b[:4]}-{b[4:6]}-{b[6:8]}T{b[9:11]}:{b[11:13]}:{b[13:15]}Z"
    verification = (f"integrity_check ok; {len(migrations) + 1 if migrations else 0} tables, row counts and content "
                    "checksums equal the live database at backup time") if verified else \
        "sha256 of the file differs from its manifest: the file was changed after the backup"
    return BackupEntry(backup_id, stamp, size, label, migrations, verified, verification, f"{backup_id}.sqlite")


def preamble(env: str, *, protected: bool, pending: list[str], applied: int = 0) -> list[Step]:
    policy = "required" if protected else "optional"
    names = ", ".join(pending)
    return [
        Step("validate_parameters"),
        Step("working_directory", message="/home/sam/shop"),
        Step("load_configuration", duration_ms=5, message=f"{env}: protected={protected}, backup={policy}"),
        Step("migration_mode", message="prisma migrate deploy (non-interactive; never migrate dev or reset)"),
        Step("pre_deployment_health_check", duration_ms=1,
             message=f"connected to sqlite database {env}.db (SQLite 3.40.1) in 1 ms; {applied} applied, "
                     f"{len(pending)} pending"),
        Step("check_pending_migrations", duration_ms=52, message=f"{len(pending)} pending" + (f": {names}" if names
                                                                                              else "")),
    ]


def health(env: str, applied: int, pending: int) -> list[Check]:
    return [Check("connectivity", "pass", f"connected to sqlite database {env}.db (SQLite 3.40.1) in 0 ms"),
            Check("migrations", "pass", f"{applied} applied, {pending} pending")]


def plan(env: str, pending: list[tuple[str, str]], findings: list[Finding] | None = None, *,
         plan_id: str = "85cda117fda63b70", blocked: list[str] | None = None) -> MigratePlan:
    findings = findings or []
    return MigratePlan(plan_id, env, [PlannedMigration(n, hashlib.sha256(s.encode()).hexdigest(), s)
                               for n, s in pending],
                findings, destructive=bool(findings), blocked=blocked or [],
                approval_level="standard" if findings else None, requires_backup=env == "production")


UNIQUE = Finding('CREATE UNIQUE INDEX "User_name_key" ON "User"("name")', 2, "add_unique", "medium", "User", 25,
                 NAMES, 'Adds a unique index on "User"; existing duplicate values make it fail')


# ---------------------------------------------------------------- the cases


def init_written() -> Result:
    return Result("success", "init", None, "Wrote .fractary/plugins/faber-db/config.toml (sqlite, 3 environments)",
                  InitDetails(config_path=".fractary/plugins/faber-db/config.toml", written=True, provider="sqlite",
                              schema="prisma/schema.prisma", migrations_dir="prisma/migrations",
                              environments={"dev": "DEV_DATABASE_URL", "staging": "STAGING_DATABASE_URL",
                                            "production": "PROD_DATABASE_URL"},
                              migration_tool="prisma", tool_config="prisma.config.ts",
                              tool_command=["node_modules/.bin/prisma"]),
                  suggested_fixes=["export DEV_DATABASE_URL=… for each environment you use, then "
                                   "`faber-db status dev`"], duration_ms=136)


def status_up_to_date() -> Result:
    return Result("success", "status", "dev", "dev is up to date (2 migrations applied)",
                  StatusDetails("sqlite", "sqlite database dev.db", True, [USERS, POSTS], local_count=2),
                  duration_ms=32)


def status_troubled() -> Result:
    details = StatusDetails(
        "postgresql", "postgresql database shop on db.internal:5432 (schema public)", False,
        applied=["20240101000000_init", USERS, "20240301000000_orders"], pending=[POSTS, "20261201000000_tags"],
        failed=["20261125000000_bad_index"], rolled_back=["20261201000000_tags"], modified=[USERS],
        missing_locally=["20240301000000_orders"], local_count=6,
        drift=[{"object": "column", "table": "User", "name": "nickname", "change": "only in the database",
                "expected": None, "actual": "TEXT NULL"},
               {"object": "index", "table": "User", "name": "User_email_key", "change": "differs",
                "expected": 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email")',
                "actual": 'CREATE INDEX "User_email_key" ON "User"("email")'}])
    return Result("warning", "status", "staging",
                  "staging: 2 pending, 1 failed, 1 modified, 1 missing locally, drift in 2 objects", details,
                  warnings=[f"{USERS} was edited after it was applied (checksum differs)",
                            "20240301000000_orders is applied but its folder is missing locally"],
                  suggested_fixes=["Resolve the failed migration: `faber-db rollback staging --dry-run`, or fix "
                                   "it and mark it with prisma migrate resolve", "faber-db migrate staging --dry-run"],
                  duration_ms=412)


def status_unknown_environment() -> Result:
    return Result("failure", "status", "qa", "Unknown environment 'qa'", None,
                  errors=[ErrorInfo("UNKNOWN_ENVIRONMENT", "Unknown environment 'qa'",
                                    "Use one of: dev, staging, production (or add [environments.<name>] to the "
                                    "config).")],
                  suggested_fixes=["Use one of: dev, staging, production (or add [environments.<name>] to the "
                                   "config)."], duration_ms=25)


def generate_written() -> Result:
    migration = MigrationFile(USERS, f"prisma/migrations/{USERS}", USERS_SQL,
                              '-- DropTable\nPRAGMA foreign_keys=off;\nDROP TABLE "User";\nPRAGMA foreign_keys=on;\n',
                              ['down.sql itself destroys data: Drops table "User" and all its rows'])
    return Result("success", "generate-migration", None, f"Generated {USERS}: 2 change(s)",
                  GenerateDetails(True, migration, [],
                                  [{"kind": "CreateTable", "object": "User", "statement": 'CREATE TABLE "User" ('},
                                   {"kind": "CreateIndex", "object": "User_email_key",
                                    "statement": 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'}],
                                  False, "6.15.0"),
                  suggested_fixes=["Review the SQL, then `faber-db migrate dev`."], duration_ms=1786)


def generate_preview_risky() -> Result:
    sql = ('-- AlterTable\nALTER TABLE "User" DROP COLUMN "name";\n\n-- AlterTable\n'
           'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE INTEGER;\n\n-- DropTable\nDROP TABLE "Legacy";\n')
    findings = [
        Finding('ALTER TABLE "User" DROP COLUMN "name"', 2, "drop_column", "high", "User", None,
                "20261124190000_slim_users", 'Drops column "User"."name" and its data'),
        Finding('ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE INTEGER', 5, "type_narrowing", "high",
                "Order", None, "20261124190000_slim_users",
                'Changes "Order"."total" to INTEGER; values that do not fit fail the migration or lose precision'),
        Finding('DROP TABLE "Legacy"', 8, "drop_table", "critical", "Legacy", None, "20261124190000_slim_users",
                'Drops table "Legacy" and all its rows'),
    ]
    migration = MigrationFile("20261124190000_slim_users", None, sql, "-- down.sql cannot restore dropped data\n")
    return Result("warning", "generate-migration", None,
                  "Previewed 20261124190000_slim_users: 3 change(s), nothing written; 3 destructive statement(s)",
                  GenerateDetails(True, migration, findings,
                                  [{"kind": "AlterTable", "object": "User", "statement": ""},
                                   {"kind": "AlterTable", "object": "Order", "statement": ""},
                                   {"kind": "DropTable", "object": "Legacy", "statement": ""}], True, "6.15.0"),
                  warnings=["3 destructive statement(s): protected environments refuse them without "
                            "--allow-destructive and approval"], duration_ms=1357)


def generate_no_changes() -> Result:
    return Result("success", "generate-migration", None, "No schema changes: nothing to generate",
                  GenerateDetails(False, None, [], [], False, "6.15.0"), duration_ms=1210)


def migrate_applied() -> Result:
    steps = [*preamble("dev", protected=False, pending=[USERS, POSTS]),
             Step("approval", message="not a protected environment"),
             Step("create_backup", "skipped", 0, "backup policy of dev is optional (pass --backup to take one)"),
             Step("deploy_migrations", duration_ms=1298, message="applied 2 migration(s)"),
             Step("post_deployment_health_check",
                  message="connected to sqlite database dev.db (SQLite 3.40.1) in 0 ms"),
             Step("verify_all_applied", message="all 2 local migrations applied with matching checksums"),
             Step("generate_client", duration_ms=756, message="Prisma Client regenerated"),
             Step("audit_log", duration_ms=2, message=AUDIT)]
    details = MigrateDetails(project="/home/sam/shop", steps=steps,
                             plan=plan("dev", [(USERS, USERS_SQL), (POSTS, POSTS_SQL)], plan_id="4784c9436524af75"),
                             applied=[USERS, POSTS], client_generated=True, health=health("dev", 0, 2))
    return Result("success", "migrate", "dev", "Applied 2 migration(s) to dev", details, duration_ms=2164)


def migrate_dry_run_protected() -> Result:
    steps = [*preamble("production", protected=True, pending=[POSTS, NAMES], applied=1),
             Step("preview", message="plan 9a4a97bc8a19be02; nothing was changed")]
    drop = Finding('ALTER TABLE "User" DROP COLUMN "legacy"', 45, "drop_column", "high", "Event", 18_204,
                   "29990102000000_event_columns", 'Drops column "Event"."legacy" and its data')
    details = MigrateDetails(
        dry_run=True, project="/home/sam/shop", steps=steps,
        plan=plan("production", [(POSTS, POSTS_SQL), (NAMES, NAMES_SQL), ("29990102000000_event_columns", LONG_SQL)],
                  [UNIQUE, drop], plan_id="9a4a97bc8a19be02", blocked=["29990102000000_event_columns:45 drop_column"]),
        health=health("production", 1, 3))
    return Result("success", "migrate", "production",
                  "Dry run: 3 pending migration(s) for production, plan 9a4a97bc8a19be02", details,
                  warnings=["2 risky statement(s); 1 refused in production without --allow-destructive"],
                  suggested_fixes=["faber-db migrate production --approve 9a4a97bc8a19be02 --allow-destructive"],
                  duration_ms=94)


def migrate_approval_required() -> Result:
    message = ("production is protected: applying 2 migration(s) needs the approval of plan d55695049db7e01c; "
               "nothing was changed")
    steps = [*preamble("production", protected=True, pending=[USERS, POSTS]),
             Step("approval", "failed", 0, message), Step("audit_log", duration_ms=3, message=AUDIT)]
    details = MigrateDetails(project="/home/sam/shop", steps=steps,
                             plan=plan("production", [(USERS, USERS_SQL), (POSTS, POSTS_SQL)],
                                       plan_id="d55695049db7e01c"), health=health("production", 0, 2))
    hint = "Show the plan to the user; with their OK: faber-db migrate production --approve d55695049db7e01c"
    return Result("failure", "migrate", "production", message, details,
                  errors=[ErrorInfo("APPROVAL_REQUIRED", message, hint)], suggested_fixes=[hint], duration_ms=92)


def migrate_failed_restored() -> Result:
    steps = [*preamble("production", protected=True, pending=[NAMES], applied=2),
             Step("approval", message="plan 9a4a97bc8a19be02 approved (--approve)"),
             Step("create_backup", duration_ms=51,
                  message="20261124T182117Z-d76a (28672 bytes), verified: integrity_check ok; 3 tables, row counts "
                          "and content checksums equal the live database at backup time"),
             Step("deploy_migrations", "failed", 1346,
                  f"failed at {NAMES}: prisma migrate deploy failed (prisma exit 1, P2002)"),
             Step("automatic_restore", duration_ms=25,
                  message="restored 20261124T182117Z-d76a; row counts, content checksums and schema match the "
                          "pre-deploy snapshot"),
             Step("audit_log", duration_ms=3, message=AUDIT)]
    output = ("Loaded Prisma config from prisma.config.ts.\n\nPrisma schema loaded from prisma/schema.prisma\n"
              'Datasource "db": SQLite database "prod.db"\n\n3 migrations found in prisma/migrations\n\n'
              "Applying migration `29990101000000_unique_names`\n\nError: P2002\n\n"
              "Unique constraint failed on the fields: (`name`)")
    details = MigrateDetails(project="/home/sam/shop", steps=steps,
                             plan=plan("production", [(NAMES, NAMES_SQL)], [UNIQUE], plan_id="9a4a97bc8a19be02"),
                             backup=backup_ref(), restored=True, restore_verified=True, failed_migration=NAMES,
                             health=health("production", 2, 1), tool="Prisma", tool_output=output,
                             error_details={"code": "PRISMA_FAILED",
                                            "message": "prisma migrate deploy failed (prisma exit 1, P2002)"})
    hint = f"Fix {NAMES}'s SQL (see tool_output), regenerate or edit it, then dry-run again."
    return Result("failure", "migrate", "production",
                  f"{NAMES} failed; production was restored from backup 20261124T182117Z-d76a and matches its "
                  "pre-deploy state", details,
                  errors=[ErrorInfo("MIGRATION_FAILED", "prisma migrate deploy failed (prisma exit 1, P2002)", hint)],
                  suggested_fixes=[hint], duration_ms=1535)


def migrate_up_to_date() -> Result:
    details = MigrateDetails(project="/home/sam/shop", steps=preamble("dev", protected=False, pending=[], applied=2),
                             plan=plan("dev", [], plan_id="bd89d12f9a376a32"), health=health("dev", 2, 0))
    return Result("success", "migrate", "dev", "dev is up to date; nothing to apply", details, duration_ms=74)


def backup_taken() -> Result:
    manifest = entry("20261124T182302Z-b5ff", "before hotfix 1432", [USERS, POSTS])
    steps = [Step("read_state", message="2 migrations applied"),
             Step("create_backup", duration_ms=37, message=manifest.verification),
             Step("prune", message="removed 20261101T090000Z-0a1b (retention: 10 backups)"),
             Step("audit_log", message=AUDIT)]
    details = BackupDetails(backup_ref("20261124T182302Z-b5ff"), manifest, ["20261101T090000Z-0a1b"], steps)
    return Result("success", "backup", "production",
                  "Backup 20261124T182302Z-b5ff of production taken and verified (28672 bytes)", details,
                  suggested_fixes=["Restore it with: faber-db restore production --from 20261124T182302Z-b5ff"],
                  duration_ms=290)


def backups_listed() -> Result:
    backups = [entry("20261124T182302Z-b5ff", "before hotfix 1432", [USERS, POSTS], size=5_432_112),
               entry("20261124T182117Z-d76a", "before 9a4a97bc8a19be02", [USERS, POSTS]),
               entry("20261124T182115Z-113b", None, [], size=4096, verified=False)]
    return Result("warning", "backups", "production", "3 backup(s) of production, newest 20261124T182302Z-b5ff",
                  BackupsDetails(".fractary/plugins/faber-db/backups/production", backups),
                  warnings=["1 backup failed its check: 20261124T182115Z-113b"], duration_ms=43)


def backups_none() -> Result:
    return Result("success", "backups", "staging", "No backups of staging yet",
                  BackupsDetails(".fractary/plugins/faber-db/backups/staging", []),
                  suggested_fixes=["faber-db backup staging"], duration_ms=12)


def restore_dry_run() -> Result:
    details = RestoreDetails(True, "bc5fd02d8d98d24b", entry("20261124T182115Z-113b", "before d55695049db7e01c", [],
                                                            size=4096),
                             ["table Post is missing (0 rows expected)", "table User is missing (25 rows expected)",
                              "table _prisma_migrations (migration history) is missing (2 rows expected)",
                              "schema differs (tables, columns, types, indexes or constraints)"],
                             steps=[Step("check_backup", message="20261124T182115Z-113b: sha256 matches its manifest"),
                                    Step("compare", message="4 difference(s) between now and the backup")])
    return Result("success", "restore", "production",
                  "Dry run: restoring 20261124T182115Z-113b would change 4 thing(s); plan bc5fd02d8d98d24b", details,
                  suggested_fixes=["faber-db restore production --from 20261124T182115Z-113b --approve "
                                   "bc5fd02d8d98d24b"], duration_ms=51)


def restore_done() -> Result:
    details = RestoreDetails(False, "bc5fd02d8d98d24b", entry("20261124T182117Z-d76a", "before 9a4a97bc8a19be02",
                                                             [USERS, POSTS]),
                             ["table User has 31 rows (25 expected)"], restored_from="20261124T182117Z-d76a",
                             restore_verified=True, safety_backup=backup_ref("20261124T190501Z-77c0"),
                             steps=[Step("check_backup", message="20261124T182117Z-d76a: sha256 matches its manifest"),
                                    Step("compare", message="1 difference(s) between now and the backup"),
                                    Step("approval", message="plan bc5fd02d8d98d24b approved (--approve)"),
                                    Step("safety_backup", duration_ms=40,
                                         message="current state saved as 20261124T190501Z-77c0"),
                                    Step("restore", duration_ms=61, message="restored 20261124T182117Z-d76a"),
                                    Step("verify", duration_ms=9, message="row counts, content checksums and schema "
                                                                          "match the backup's manifest"),
                                    Step("audit_log", message=AUDIT)])
    return Result("success", "restore", "production",
                  "Restored production from 20261124T182117Z-d76a; verified against its manifest", details,
                  suggested_fixes=["Undo with: faber-db restore production --from 20261124T190501Z-77c0"],
                  duration_ms=388)


def rollback_dry_run() -> Result:
    drop = Finding('DROP TABLE "Post"', 3, "drop_table", "high", "Post", 1_204, POSTS,
                   'Drops table "Post" and all its rows')
    targets = [RollbackTarget(POSTS, True, DROP_POSTS, [drop]), RollbackTarget(USERS, False, None)]
    details = RollbackDetails(True, "ed37a54ad32327cd", targets, "restore",
                              Alternative("20261124T182115Z-113b", "2026-11-24T18:21:15Z",
                                          "faber-db restore production --from 20261124T182115Z-113b --dry-run"),
                              steps=[Step("read_state", duration_ms=75,
                                          message=f"2 to roll back: {POSTS}, {USERS}")])
    return Result("warning", "rollback", "production",
                  f"Dry run: {USERS} has no down.sql; roll back by restoring a backup; plan ed37a54ad32327cd",
                  details,
                  warnings=[f'{POSTS}: down.sql Drops table "Post" and all its rows (1,204 rows)',
                            f"{USERS} has no down.sql"],
                  suggested_fixes=["faber-db restore production --from 20261124T182115Z-113b --dry-run"],
                  duration_ms=207)


def rollback_done() -> Result:
    drop = Finding('DROP TABLE "Post"', 3, "drop_table", "high", "Post", 0, POSTS,
                   'Drops table "Post" and all its rows')
    details = RollbackDetails(False, "ed37a54ad32327cd", [RollbackTarget(POSTS, True, DROP_POSTS, [drop])], "down",
                              rolled_back=[POSTS], backup=backup_ref("20261124T182119Z-6091", "dev"),
                              steps=[Step("read_state", duration_ms=80, message=f"1 to roll back: {POSTS}"),
                                     Step("create_backup", duration_ms=23, message="integrity_check ok; 3 tables, row "
                                          "counts and content checksums equal the live database at backup time"),
                                     Step(f"down:{POSTS}", duration_ms=884,
                                          message="down.sql applied; history row removed"),
                                     Step("verify", duration_ms=32, message="1 migration(s) pending again; schema "
                                          "equals a replay of the 1 remaining migration(s)"),
                                     Step("audit_log", duration_ms=2, message=AUDIT)])
    return Result("warning", "rollback", "dev", f"Rolled back 1 migration(s) on dev: {POSTS}", details,
                  warnings=[f'{POSTS}: down.sql Drops table "Post" and all its rows (0 rows)'],
                  suggested_fixes=["Re-apply with `faber-db migrate dev`"], duration_ms=1252)


def health_degraded() -> Result:
    checks = [Check("connectivity", "pass", "connected to sqlite database staging.db (SQLite 3.40.1) in 0 ms"),
              Check("migrations", "warn", "0 applied, 2 pending (pending migrations)"),
              Check("schema", "pass", "schema matches the applied migrations (no drift)", 49),
              Check("performance", "pass", "28.0 KiB; a trivial query took 0 ms")]
    return Result("warning", "health-check", "staging",
                  "staging is degraded: migrations: 0 applied, 2 pending (pending migrations)",
                  HealthDetails("degraded", checks, ["migrations: 0 applied, 2 pending (pending migrations)"]),
                  warnings=["migrations: 0 applied, 2 pending (pending migrations)"],
                  suggested_fixes=["faber-db migrate staging --dry-run"], duration_ms=35)


def health_unhealthy() -> Result:
    checks = [Check("connectivity", "fail", "cannot connect to postgresql database shop on db.internal:5432: "
                    "connection refused (is the server running and accepting TCP connections?)"),
              Check("migrations", "skipped", "not run: no connection"),
              Check("schema", "skipped", "not run: no connection"),
              Check("performance", "skipped", "not run: no connection")]
    return Result("failure", "health-check", "production", "production is unhealthy: connectivity failed",
                  HealthDetails("unhealthy", checks, ["connectivity: connection refused"]),
                  errors=[ErrorInfo("DATABASE_UNREACHABLE", "production is unhealthy: connectivity failed",
                                    "Check that the server is up and PROD_DATABASE_URL points at it.")],
                  duration_ms=5012)


def db_create_created() -> Result:
    details = DbCreateDetails("postgresql database shop_staging", True, "0addd78513e727b2",
                              [Step("connect_server", duration_ms=14),
                               Step("create", duration_ms=212, message="created postgresql database shop_staging"),
                               Step("audit_log", message=AUDIT)])
    return Result("success", "db-create", "staging", "Created postgresql database shop_staging", details,
                  suggested_fixes=["Apply the migrations: faber-db migrate staging"], duration_ms=260)


def db_create_needs_approval() -> Result:
    message = ("production is protected: creating postgresql database shop needs the approval of plan "
               "5f1e0c29aa9d3e71; nothing was changed")
    hint = "Show the plan to the user; with their OK: faber-db db-create production --approve 5f1e0c29aa9d3e71"
    return Result("failure", "db-create", "production", message, {"plan_id": "5f1e0c29aa9d3e71"},
                  errors=[ErrorInfo("APPROVAL_REQUIRED", message, hint)], suggested_fixes=[hint], duration_ms=31)


def _audit_entries() -> list[dict[str, Any]]:
    return [
        {"line": 3, "applied": [], "approved": False, "backup_id": None, "environment": "production",
         "error": "APPROVAL_REQUIRED", "message": "production is protected: applying 2 migration(s) needs the "
         "approval of plan d55695049db7e01c; nothing was changed", "operation": "migrate",
         "plan_id": "d55695049db7e01c", "status": "failure", "time": "2026-11-24T18:21:15.457+00:00", "user": "sam"},
        {"line": 4, "applied": [USERS, POSTS], "approved": True, "backup_id": "20261124T182115Z-113b",
         "environment": "production", "error": None, "message": "Applied 2 migration(s) to production",
         "operation": "migrate", "status": "success", "time": "2026-11-24T18:21:16.785+00:00", "user": "sam"},
        {"line": 6, "environment": "dev", "message": f"Rolled back 1 migration(s) on dev: {POSTS}",
         "operation": "rollback", "status": "warning", "time": "2026-11-24T18:21:20.509+00:00", "user": "sam"},
        {"line": 9, "environment": "staging", "message": "Created sqlite database staging.db",
         "operation": "db-create", "status": "success", "time": "2026-11-24T18:23:02.995+00:00", "user": "sam"},
    ]


def audit_verified() -> Result:
    details = AuditDetails(".fractary/plugins/faber-db/audit.jsonl", 9, _audit_entries(), verified=True)
    return Result("success", "audit", None, "4 audit entries; hash chain intact", details, duration_ms=21)


def audit_tampered() -> Result:
    message = "Audit trail tampered: line 4: edited: its content no longer matches its hash"
    details = AuditDetails(".fractary/plugins/faber-db/audit.jsonl", 9, _audit_entries()[:2], verified=False,
                           problems=[{"line": 4, "problem": "edited: its content no longer matches its hash"},
                                     {"line": 7, "problem": "a line before it was deleted or reordered"}])
    return Result("failure", "audit", "production", message, details,
                  errors=[ErrorInfo("AUDIT_TAMPERED", message, "Compare with your VCS or backup copy of audit.jsonl.")],
                  duration_ms=24)


def faber_build() -> Result:
    sub = migrate_applied()
    step = {"command": "faber-db migrate dev", **sub.to_dict()}
    return Result("success", "faber", "dev", "build: Applied 2 migration(s) to dev",
                  PhaseDetails("build", "42", [step]), duration_ms=2201)


def faber_release_waiting() -> Result:
    dry = migrate_dry_run_protected()
    dry.duration_ms = 103
    message = ("production is protected: applying 3 migration(s) needs the approval of plan 9a4a97bc8a19be02; "
               "nothing was changed")
    hint = ("Show the plan to the user; with their OK: faber-db migrate production --approve 9a4a97bc8a19be02 "
            "--allow-destructive")
    refused_steps = [*dry.details.steps[:-1], Step("approval", "failed", 0, message),
                     Step("audit_log", duration_ms=3, message=AUDIT)]
    refused = Result("failure", "migrate", "production", message,
                     MigrateDetails(project="/home/sam/shop", steps=refused_steps, plan=dry.details.plan),
                     errors=[ErrorInfo("APPROVAL_REQUIRED", message, hint)], suggested_fixes=[hint], duration_ms=92)
    steps = [{"command": "faber-db migrate production --dry-run", **dry.to_dict()},
             {"command": "faber-db migrate production", **refused.to_dict()}]
    return Result("failure", "faber", "production", f"release: waiting for approval: {message}",
                  PhaseDetails("release", "42", steps, stopped_at="migrate production"), warnings=dry.warnings,
                  errors=refused.errors, suggested_fixes=refused.suggested_fixes, duration_ms=221)


def faber_architect() -> Result:
    sub = generate_preview_risky()
    sub.details.preview = False
    sub.details.migration.path = "prisma/migrations/20261124190000_slim_users"
    sub.message = "Generated 20261124190000_slim_users: 3 change(s); 3 destructive statement(s)"
    step = {"command": 'faber-db generate-migration "slim users" --name slim_users', **sub.to_dict()}
    return Result("warning", "faber", None, f"architect: {sub.message}", PhaseDetails("architect", "57", [step]),
                  warnings=sub.warnings, suggested_fixes=["Review the SQL, then `faber-db faber build`."],
                  duration_ms=1402)


def unknown_operation() -> Result:
    """An operation without a template of its own: the generic rendering, details as key: value lines."""
    details = {"target": "staging", "checked": True, "tables": ["User", "Post", "Order"],
               "counts": {"User": 25, "Post": 1204}, "items": [{"name": "a", "ok": True}, {"name": "b", "ok": False}],
               "steps": [{"name": "scan", "status": "ok", "duration_ms": 1200, "message": "scanned 3 tables"}],
               "note": "a long note that goes on and on about nothing in particular, long enough to need wrapping "
                       "at eighty columns, twice over"}
    return Result("success", "inspect", "staging", "Inspected staging", details, duration_ms=1300)


CASES: dict[str, Callable[[], Result]] = {f.__name__.replace("_", "-"): f for f in (
    init_written, status_up_to_date, status_troubled, status_unknown_environment, generate_written,
    generate_preview_risky, generate_no_changes, migrate_applied, migrate_dry_run_protected,
    migrate_approval_required, migrate_failed_restored, migrate_up_to_date, backup_taken, backups_listed,
    backups_none, restore_dry_run, restore_done, rollback_dry_run, rollback_done, health_degraded, health_unhealthy,
    db_create_created, db_create_needs_approval, audit_verified, audit_tampered, faber_architect, faber_build,
    faber_release_waiting, unknown_operation)}


# ---------------------------------------------------------------- helpers


def assert_snapshot(name: str, text: str) -> None:
    """Compare with tests/snapshots/<name>.txt; UPDATE_SNAPSHOTS=1 rewrites it instead."""
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", "utf-8")
        return
    assert path.is_file(), f"no snapshot {path.name}; run UPDATE_SNAPSHOTS=1 pytest {__file__}"
    expected = path.read_text("utf-8")
    if expected != text + "\n":
        diff = "".join(difflib.unified_diff(expected.splitlines(True), (text + "\n").splitlines(True),
                                            f"snapshots/{path.name}", "rendered"))
        pytest.fail(f"rendering differs from the snapshot (UPDATE_SNAPSHOTS=1 to accept):\n{diff}", pytrace=False)


def check_layout(text: str, width: int = 80) -> None:
    for number, line in enumerate(text.splitlines(), 1):
        if SQL_LINE.match(line):
            continue
        assert len(line) <= width, f"line {number} is {len(line)} columns: {line!r}"
        assert "{" not in line and "}" not in line, f"line {number} looks like a JSON dump: {line!r}"
        assert ESC not in line, f"line {number} has colour in a colourless rendering: {line!r}"


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FABER_DB_SQL_LINES", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("name", list(CASES))
def test_rendering_matches_snapshot(name: str) -> None:
    text = render_result(CASES[name](), color=False, width=80)
    check_layout(text)
    assert_snapshot(name, text)


@pytest.mark.parametrize("name", list(CASES))
def test_narrow_rendering_matches_snapshot(name: str) -> None:
    text = render_result(CASES[name](), color=False, width=NARROW)
    check_layout(text, NARROW)
    assert_snapshot(f"{NARROW}-columns/{name}", text)


def test_width_is_the_terminals_and_80_when_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr("sys.stdout", io.StringIO())  # not a terminal
    assert render.terminal_width() == 80
    assert render_result(migrate_failed_restored(), color=False) == render_result(
        migrate_failed_restored(), color=False, width=80)
    monkeypatch.setenv("COLUMNS", str(NARROW))
    assert render.terminal_width() == NARROW
    assert render_result(migrate_failed_restored(), color=False) == render_result(
        migrate_failed_restored(), color=False, width=NARROW)


def test_every_operation_has_a_template_and_cases() -> None:
    names = set(CASES)
    for operation in OPERATION_DETAILS:
        assert (TEMPLATES / f"{operation}.txt.j2").is_file(), operation
        assert any(CASES[n]().operation == operation for n in names), f"no snapshot case for {operation}"


def test_no_stale_snapshots() -> None:
    for folder in (SNAPSHOTS, SNAPSHOTS / f"{NARROW}-columns"):
        stale = {p.stem for p in folder.glob("*.txt")} - set(CASES)
        assert not stale, f"snapshots without a case in {folder.name}: {sorted(stale)}"


@pytest.mark.parametrize("name", list(CASES))
def test_partial_details_fall_back_to_the_generic_rendering(name: str) -> None:
    """A result whose details lack a field (an error's own details, an older result) still renders."""
    data = CASES[name]().to_dict()
    details = data["details"] if isinstance(data["details"], dict) else {}
    for key in details:
        text = render.render_dict({**data, "details": {k: v for k, v in details.items() if k != key}}, color=False)
        assert data["message"].split()[0] in text
        check_layout(text)
    text = render.render_dict({**data, "details": {"code": "PLAN_CHANGED", "plan_id": "abc"}}, color=False)
    assert "plan_id:  abc" in text


def test_sql_is_cut_but_risky_lines_stay() -> None:
    text = render_result(migrate_dry_run_protected(), color=False)
    assert "… 4 more lines" in text  # lines 41-44 of the long migration
    assert re.search(r'^    !!  45 \| ALTER TABLE "Event" DROP COLUMN "legacy";$', text, re.M)
    assert "… 5 more lines" in text
    assert max(len(line) for line in text.splitlines()) > 80  # SQL is never wrapped


def test_sql_line_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABER_DB_SQL_LINES", "3")
    text = render_result(generate_written(), color=False)
    assert "… 7 more lines" in text
    assert "… 10 more lines" in render_result(generate_written(), color=False, sql_lines=0)


def test_forced_colour_marks_statuses() -> None:
    plain = render_result(migrate_failed_restored(), color=False)
    coloured = render_result(migrate_failed_restored(), color=True)
    assert ESC not in plain
    assert "\x1b[31mFAIL\x1b[0m" in coloured and "\x1b[32mok\x1b[0m" in coloured
    assert render._ANSI.sub("", coloured) == plain  # colour changes nothing else, alignment included


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", _Terminal())
    monkeypatch.delenv("TERM", raising=False)
    assert render.use_color()
    assert ESC in render_result(health_degraded())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not render.use_color()
    assert ESC not in render_result(health_degraded())
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: colour allowed (no-color.org)
    assert render.use_color()
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert not render.use_color()
    assert ESC not in render_result(health_degraded())


def test_wrap_and_shell_keep_to_80_columns() -> None:
    long = "word " * 40 + "/a/very/long/path/" * 8
    for line in render.wrap(long, "  prefix: ").splitlines():
        assert len(line) <= 80
    cmd = "faber-db restore production --from 20261124T182115Z-113b --approve bc5fd02d8d98d24b"
    assert render.shell(cmd) == ("  $ faber-db restore production --from 20261124T182115Z-113b \\\n"
                                 "      --approve bc5fd02d8d98d24b")


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(alphabet="abcdefghij/_-.:`'", min_size=1, max_size=19), min_size=1, max_size=40),
       width=st.integers(min_value=40, max_value=120), prefix=st.sampled_from(["", "  ", "[FAILED] migrate dev: "]))
def test_wrap_breaks_only_at_spaces_when_every_word_fits(words: list[str], width: int, prefix: str) -> None:
    text = " ".join(words)
    out = render.wrap(text, prefix, 2, width)
    assert all(len(line) <= width for line in out.splitlines())
    assert out.split()[len(prefix.split()):] == words  # every word whole, in order


@pytest.mark.parametrize("width", [80, NARROW])
@pytest.mark.parametrize("command", [None, "migrate", "rollback"])
def test_help_is_wrapped_at_word_boundaries(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            width: int, command: str | None) -> None:
    from faber_db import cli

    monkeypatch.setenv("COLUMNS", str(width))
    with pytest.raises(SystemExit) as exited:
        cli.main([*([command] if command else []), "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    usage, _, rest = text.partition("\n\n")  # argparse keeps `[--last N | --to MIGRATION]` on one usage line
    assert all(len(line) <= width for line in rest.splitlines()), text
    assert all(len(line) <= width + 4 for line in usage.splitlines()), usage
    assert " ".join(cli.EPILOG.split()) in " ".join(text.split())  # the epilog's words whole, none cut
    assert "J\nSON" not in text and "-\n" not in text
