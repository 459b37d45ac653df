"""`faber-db rollback <env> [--last N | --to MIGRATION]`: undo applied migrations with their down.sql.

Newest first, each through `prisma db execute`, then its history row is removed so Prisma and
`faber-db status` agree it is pending again. When a migration has no down.sql, or its down would
lose data that a backup still holds, the result offers the newest backup taken before it instead.
A backup is taken first (per the environment's policy) and restored if a down script fails.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass, field

from faber_db.database import database_identity
from faber_db.errors import FaberError
from faber_db.locking import environment_lock
from faber_db.output import progress
from faber_db.planning import MigrationState, compute_state
from faber_db.results import ErrorInfo, Finding, Result
from faber_db.runtime import Context, Target
from faber_db.workflow import BackupRef, Step, Steps, approval_source, backup_dir, plan_hash, record_audit, take_backup

HELP = "Undo the last N applied migrations (or back to one) with their down.sql"


@dataclass
class RollbackTarget:
    name: str
    has_down: bool
    down_sql: str | None
    data_loss: list[Finding] = field(default_factory=list)


@dataclass
class Alternative:
    backup_id: str
    created_at: str
    command: str


@dataclass
class RollbackDetails:
    dry_run: bool
    plan_id: str
    targets: list[RollbackTarget]
    strategy: str | None
    alternative: Alternative | None = None
    rolled_back: list[str] = field(default_factory=list)
    backup: BackupRef | None = None
    restored: bool = False
    steps: list[Step] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--last", type=int, metavar="N", help="roll back the N newest applied migrations (default 1)")
    which.add_argument("--to", metavar="MIGRATION", help="roll back every migration applied after MIGRATION")
    parser.add_argument("--dry-run", action="store_true", help="show down SQL, data loss, plan id; change nothing")
    parser.add_argument("--approve", metavar="PLAN_ID", help="protected environments: the dry run's plan id")
    parser.add_argument("--allow-destructive", action="store_true",
                        help="protected environments: allow down scripts that drop data")


def _select(state: MigrationState, last: int | None, to: str | None) -> list[str]:
    applied = state.applied  # in the folder's (apply) order
    if to is not None:
        if to not in applied:
            raise FaberError("MIGRATION_NOT_FOUND", f"{to!r} is not an applied migration",
                             "Pick a name from `faber-db status <env>` (details.applied).")
        return list(reversed(applied[applied.index(to) + 1:]))
    count = 1 if last is None else last
    if count < 1:
        raise FaberError("INVALID_ARGUMENT", "--last must be at least 1", "e.g. --last 1 for the newest migration")
    if count > len(applied):
        raise FaberError("INVALID_ARGUMENT", f"--last {count}, but only {len(applied)} migration(s) are applied",
                         f"Use --last {max(len(applied), 1)} or fewer (see `faber-db status`).")
    return list(reversed(applied[-count:]))


def run(ctx: Context, args: argparse.Namespace) -> Result:
    from faber_db.backups import list_backups
    from faber_db.safety import analyze_sql, count_rows

    target = ctx.target(args.environment)
    target.handler.check_datasource()  # down.sql runs through Prisma: fail before anything is read
    steps = Steps()
    with steps.run("read_state") as step, target.connect() as db:
        local = {m.name: m for m in target.handler.local_migrations()}
        state = compute_state(list(local.values()), target.handler.applied_migrations(db))
        names = _select(state, args.last, args.to)
        targets: list[RollbackTarget] = []
        for name in names:
            migration = local[name]
            down = migration.down_path.read_text("utf-8") if migration.down_path else None
            found = analyze_sql(down, target.provider, migration=name) if down else []
            loss = [f for f in found if f.severity in ("high", "critical")]
            if loss:
                count_rows(loss, db)
            targets.append(RollbackTarget(name, down is not None, down, loss))
        step.message = f"{len(names)} to roll back: {', '.join(names)}" if names else "nothing applied"
    oldest = names[-1] if names else None
    alternative = None
    if oldest:
        for manifest in list_backups(backup_dir(target), target.name):
            if oldest not in manifest.migrations and manifest.verified:
                alternative = Alternative(manifest.id, manifest.created_at,
                                          f"faber-db restore {target.name} --from {manifest.id}")
                break
    strategy = "down" if all(t.has_down for t in targets) else ("restore" if alternative else None)
    plan_id = plan_hash(target.name, database_identity(target.provider, target.url, target.handler.schema_dir),
                        "rollback", *(f"{t.name}:{hashlib.sha256((t.down_sql or '').encode()).hexdigest()}"
                                      for t in targets))
    details = RollbackDetails(dry_run=args.dry_run, plan_id=plan_id, targets=targets, strategy=strategy,
                              alternative=alternative, steps=steps.records)
    warnings = [f"{t.name}: down.sql {f.message}" + (f" ({f.rows} rows)" if f.rows is not None else "")
                for t in targets for f in t.data_loss]
    if warnings and alternative:
        warnings.append(f"Backup {alternative.backup_id} still holds that data: `{alternative.command}` instead")
    if not targets:
        return Result(status="success", operation="rollback", environment=target.name,
                      message="No applied migrations: nothing to roll back", details=details)
    command = f"faber-db rollback {target.name} " + (f"--to {args.to}" if args.to else f"--last {len(targets)}")
    if args.dry_run:
        fixes = [f"{command} --approve {plan_id}" if target.env.protected else command] if strategy == "down" else []
        if alternative:
            fixes.append(alternative.command)
        return Result(status="warning" if warnings or strategy != "down" else "success", operation="rollback",
                      environment=target.name, details=details, warnings=warnings, suggested_fixes=fixes,
                      message=f"Dry run: roll back {len(targets)} migration(s) by "
                      f"{'their down.sql' if strategy == 'down' else 'restoring a backup'}; plan {plan_id}"
                      if strategy else f"Dry run: {len(targets)} migration(s) cannot be rolled back automatically")
    if strategy != "down":
        missing = [t.name for t in targets if not t.has_down]
        raise FaberError("NO_DOWN_MIGRATION", f"No down.sql for {', '.join(missing)}; nothing was changed",
                         alternative.command if alternative else
                         "No backup predates it: write a down.sql by hand, or restore from your own backup.",
                         details={"targets": [t.name for t in targets]})
    if target.env.protected:
        with steps.run("approval") as step:
            step.message = approval_source(target, args.approve, plan_id, action=f"Rolling back {len(targets)} "
                                           "migration(s)", command=command, details={"plan_id": plan_id})
            if any(t.data_loss for t in targets) and not args.allow_destructive:
                raise FaberError("DESTRUCTIVE_CHANGE", "The down scripts drop data; nothing was changed",
                                 f"With the user's OK: {command} --approve {plan_id} --allow-destructive",
                                 details={"plan_id": plan_id})
    with environment_lock(target.loaded.project_root, target.name, "rollback",
                          wait_seconds=target.loaded.config.safety.lock_wait_seconds):
        return _execute(target, targets, state, steps, details, warnings, plan_id, bool(args.approve))


def _verify(target: Target, targets: list[RollbackTarget], steps: Steps) -> FaberError | None:
    """The rolled-back migrations are pending again, and the schema equals a replay of what remains."""
    from faber_db import drift

    with steps.run("verify") as step, target.connect() as db:
        after = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
        still = [t.name for t in targets if t.name in after.applied]
        differences = drift.detect(target, db, after.applied)
        if still or differences:
            step.status = "failed"
            problems = ([f"still recorded as applied: {', '.join(still)}"] if still else []) + \
                [d.describe() for d in differences[:10]]
            step.message = "; ".join(problems)
            return FaberError("VERIFY_FAILED", f"The rollback did not return the schema to its earlier state: "
                              f"{step.message}", "Check the down.sql scripts; the database was restored if a backup "
                              "was taken.", details={"drift": drift.as_dicts(differences)})
        step.message = (f"{len(targets)} migration(s) pending again; schema equals a replay of the "
                        f"{len(after.applied)} remaining migration(s)")
    return None


def _execute(target: Target, targets: list[RollbackTarget], state: MigrationState, steps: Steps,
             details: RollbackDetails, warnings: list[str], plan_id: str, approved: bool) -> Result:
    from faber_db.backups import restore_backup

    manifest = None
    if target.env.backup != "optional" or any(t.data_loss for t in targets):
        with steps.run("create_backup") as step:
            manifest, details.backup = take_backup(target, label=f"before rollback {plan_id}", migrations=state.applied)
            step.message = manifest.verification
    else:
        steps.skip("create_backup", f"backup policy of {target.name} is optional")
    local = {m.name: m for m in target.handler.local_migrations()}
    error: FaberError | None = None
    for item in targets:
        with steps.run(f"down:{item.name}") as step:
            down_path = local[item.name].down_path
            assert down_path is not None
            progress(f"rolling back {item.name}")
            done = target.handler.execute_script(down_path, database_url=target.url)
            if done.returncode != 0:
                error = target.handler.error_from(done, f"down.sql of {item.name}")
                step.status, step.message = "failed", error.message
                break
            with target.connect() as db:
                target.handler.forget_migrations(db, [item.name])
            details.rolled_back.append(item.name)
            step.message = "down.sql applied; history row removed"
    if error is None:
        error = _verify(target, targets, steps)
    if error is not None and manifest is not None:
        with steps.run("automatic_restore") as step:
            restore_backup(manifest, url=target.url, schema_dir=target.handler.schema_dir,
                           backup_dir=backup_dir(target), progress=progress)
            details.restored = True
            details.rolled_back = []
            step.message = f"restored {manifest.id}; data matches the state before the rollback"
    if error is not None:
        result = Result(status="failure", operation="rollback", environment=target.name,
                        message=error.message + ("; restored the pre-rollback backup" if details.restored else ""),
                        details=details, warnings=warnings, errors=[ErrorInfo(error.code, error.message, error.hint)],
                        suggested_fixes=[error.hint])
    else:
        result = Result(status="warning" if warnings else "success", operation="rollback", environment=target.name,
                        message=f"Rolled back {len(details.rolled_back)} migration(s) on {target.name}: "
                        f"{', '.join(details.rolled_back)}", details=details, warnings=warnings,
                        suggested_fixes=[f"Re-apply with `faber-db migrate {target.name}`"])
    record_audit(target, steps, result, {"operation": "rollback", "plan_id": plan_id, "approved": approved,
                                         "rolled_back": details.rolled_back, "restored": details.restored,
                                         "backup_id": details.backup.id if details.backup else None})
    return result
