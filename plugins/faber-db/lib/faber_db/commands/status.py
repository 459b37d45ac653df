"""`faber-db status <env>`: what is applied, pending, failed, rolled back or edited after apply,
read straight from the history table (not by parsing the migration tool's text)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from faber_db.planning import compute_state
from faber_db.results import ErrorInfo, Result, StatusDetails
from faber_db.runtime import Context

if TYPE_CHECKING:
    from faber_db.drift import Difference, SchemaChange

HELP = "Applied, pending, failed and modified migrations of an environment"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config (dev, staging, production, …)")
    parser.add_argument("--drift", action="store_true",
                        help="also compare the live schema with a replay of the applied migrations")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    target = ctx.target(args.environment)
    local = target.handler.local_migrations()
    warnings: list[str] = []
    with target.connect() as db:
        history = target.handler.applied_migrations(db)
        label = db.label
        if getattr(db, "exists", True) is False:
            warnings.append(f"The {label} file does not exist yet; `faber-db migrate {target.name}` creates it.")
        state = compute_state(local, history)
        drift: list[Difference] | None = None
        schema_drift: list[SchemaChange] | None = None
        if args.drift:  # imported here: a plain status stays fast
            from faber_db import drift as drift_module
            from faber_db.commands.generate import history_schema_changes
            from faber_db.output import progress_step

            with progress_step("replaying the applied migrations into a scratch database"):
                drift = drift_module.detect(target, db, state.applied)
    if args.drift:
        with progress_step("comparing the migration history with the schema"):
            schema_drift, diff_warnings = history_schema_changes(ctx, target.name)
        warnings += diff_warnings
    details = StatusDetails(
        provider=target.provider,
        database=label,
        up_to_date=state.up_to_date,
        applied=state.applied,
        pending=state.pending_names,
        failed=state.failed,
        rolled_back=state.rolled_back,
        modified=state.modified,
        missing_locally=state.missing_locally,
        local_count=len(local),
        drift=drift_module.as_dicts(drift) if drift is not None else None,
        schema_drift=drift_module.as_dicts(schema_drift) if schema_drift is not None else None,
    )
    fixes: list[str] = []
    if state.failed:
        warnings.append(f"Failed migration(s) recorded: {', '.join(state.failed)} (no deploy runs past a failed one)")
        fixes.append(f"Restore the backup taken before it: `faber-db backups {target.name}` lists them, "
                     f"`faber-db restore {target.name} --from <id> --dry-run` previews one")
        fixes += target.handler.fixes_without_restore(state.failed[0], target.name)
    if state.modified:
        warnings.append(f"Edited after being applied: {', '.join(state.modified)}")
        fixes.append("Revert the edits to the applied migration.sql files (git checkout); "
                     "put new changes in a new migration.")
    if state.missing_locally:
        warnings.append(f"Applied but not in the migrations folder: {', '.join(state.missing_locally)}")
        fixes.append("Pull the branch that has these migrations before deploying.")
    if state.pending:
        fixes.append(f"Preview with `faber-db migrate {target.name} --dry-run`, then apply.")

    if state.up_to_date:
        count = len(state.applied)
        message = f"{target.name} is up to date ({count} migration{'' if count == 1 else 's'} applied)"
    else:
        parts = [f"{len(v)} {k}" for k, v in (("pending", state.pending), ("failed", state.failed),
                                               ("modified", state.modified),
                                               ("missing locally", state.missing_locally)) if v]
        message = f"{target.name}: {', '.join(parts)}"
    # drift of either kind is a gate: CI fails on it (exit 1), with every difference in the result
    errors: list[ErrorInfo] = []
    if drift:
        count = len(drift)
        text = (f"{target.name} differs from its migration history: {count} difference"
                f"{'' if count == 1 else 's'}: {'; '.join(d.describe() for d in drift[:3])}"
                f"{f' (+{count - 3} more)' if count > 3 else ''}.")
        fix = ("Put the hand-made change into a migration (`faber-db generate-migration`), or undo it by hand; "
               "details.drift lists each object with what the history expects and what the database has.")
        errors.append(ErrorInfo("DRIFT_DETECTED", text, fix))
        fixes.append(fix)
    if schema_drift:
        from faber_db.drift import describe_schema_changes

        count = len(schema_drift)
        text = (f"The schema and the migration history differ in {count} step{'' if count == 1 else 's'}: "
                f"{describe_schema_changes(schema_drift)}.")
        fix = ("Generate a migration for what the schema declares (`faber-db generate-migration \"…\" --preview` "
               "shows it), or add to the schema what a migration made by hand; details.schema_drift lists each "
               "step with its SQL.")
        errors.append(ErrorInfo("SCHEMA_DRIFT", text, fix))
        fixes.append(fix)
    if errors:
        return Result(status="failure", operation="status", environment=target.name,
                      message=" ".join(e.message for e in errors), details=details, warnings=warnings,
                      errors=errors, suggested_fixes=fixes)
    return Result(
        status="success" if state.up_to_date and not warnings else "warning",
        operation="status",
        environment=target.name,
        message=message,
        details=details,
        warnings=warnings,
        suggested_fixes=fixes,
    )
