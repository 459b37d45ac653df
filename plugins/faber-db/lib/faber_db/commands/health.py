"""`faber-db health-check <env>`: connectivity and latency, server version, migration history,
drift, size and (PostgreSQL) connections, long transactions and blocked locks.

Levels: healthy / degraded (a warning) / unhealthy (a failed check); exit 0 / 0 / 1.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.health import (
    ALL_CHECKS,
    Check,
    Level,
    check_history,
    check_performance,
    check_schema,
    connect_checked,
    level_of,
)
from faber_db.planning import compute_state
from faber_db.results import ErrorInfo, Result
from faber_db.runtime import Context

if TYPE_CHECKING:
    from faber_db.drift import SchemaChange
    from faber_db.runtime import Target

HELP = "Check an environment's database: connectivity, migrations, drift, performance"


@dataclass
class HealthDetails:
    level: Level
    checks: list[Check]
    reasons: list[str] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--checks", default=",".join(ALL_CHECKS),
                        help=f"comma-separated subset of {','.join(ALL_CHECKS)} (default: all)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="connect timeout in seconds (5)")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    wanted = [c.strip() for c in args.checks.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in ALL_CHECKS]
    if unknown or not wanted:
        raise FaberError("INVALID_ARGUMENT", f"Unknown check(s): {', '.join(unknown) or '(none given)'}",
                         f"Use a comma-separated subset of: {', '.join(ALL_CHECKS)}")
    if args.timeout <= 0:
        raise FaberError("INVALID_ARGUMENT", "--timeout must be positive", "e.g. --timeout 5")
    target = ctx.target(args.environment)
    checks: list[Check] = []
    connectivity, db = connect_checked(target, timeout=args.timeout)
    checks.append(connectivity)
    if db is None:
        for name in wanted:
            if name != "connectivity":
                checks.append(Check(name, "skipped", "not run: no connection"))
    else:
        with db:
            state = compute_state(target.handler.local_migrations(), target.handler.applied_migrations(db))
            if "migrations" in wanted:
                history = check_history(state)
                if history.status == "pass" and state.pending:
                    history.status = "warn"
                    history.message += " (pending migrations)"
                if state.rolled_back:
                    history.data["rolled_back"] = state.rolled_back
                checks.append(history)
            if "schema" in wanted:
                checks.append(check_schema(target, db, state, lambda: _schema_drift(ctx, target)))
            if "performance" in wanted:
                checks.append(check_performance(db))
    level = level_of(checks)
    reasons = [f"{c.name}: {c.message}" for c in checks if c.status in ("warn", "fail")]
    details = HealthDetails(level=level, checks=checks, reasons=reasons)
    message = f"{target.name} is {level}" + (f": {reasons[0]}" if reasons else "")
    if level == "unhealthy":
        code = "DATABASE_UNREACHABLE" if db is None else "UNHEALTHY"
        hint = ("Start the database server or fix the URL." if db is None
                else f"See details.checks; `faber-db status {target.name}` for the migration history.")
        return Result(status="failure", operation="health-check", environment=target.name, message=message,
                      details=details, errors=[ErrorInfo(code, reasons[0], hint)], suggested_fixes=[hint])
    return Result(status="warning" if level == "degraded" else "success", operation="health-check",
                  environment=target.name, message=message, details=details, warnings=reasons)



def _schema_drift(ctx: Context, target: Target) -> list[SchemaChange] | None:
    from faber_db.commands.generate import history_schema_changes

    changes, _warnings = history_schema_changes(ctx, target.name)  # a check carries no warnings of its own
    return changes
