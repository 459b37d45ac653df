"""`faber-db migrate <env>`: preview, approve, back up, apply, verify; restore on failure."""

from __future__ import annotations

import argparse

from faber_db.operations.migrate import MigrateOptions, migrate
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "Apply pending migrations safely (dry run, approval, verified backup, restore on failure)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--dry-run", action="store_true",
                        help="show the plan (pending SQL, risky statements, row counts, plan id); change nothing")
    parser.add_argument("--approve", metavar="PLAN_ID", help="apply to a protected environment: the dry run's plan id")
    parser.add_argument("--skip-backup", action="store_true", help="no backup (refused where the policy requires one)")
    parser.add_argument("--backup", action="store_true", dest="force_backup",
                        help="take a verified backup even where the policy makes it optional")
    parser.add_argument("--skip-health-check", action="store_true", help="do not stop on a failed pre-deploy check")
    parser.add_argument("--allow-destructive", action="store_true",
                        help="allow destructive statements in a protected environment (with --approve)")
    parser.add_argument("--allow-drift", action="store_true",
                        help="apply although the protected database differs from its history (shown by the dry run)")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds before the deploy is stopped")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return migrate(ctx, MigrateOptions(
        environment=args.environment, dry_run=args.dry_run, approve=args.approve, skip_backup=args.skip_backup,
        force_backup=args.force_backup, skip_health_check=args.skip_health_check,
        allow_destructive=args.allow_destructive, allow_drift=args.allow_drift, timeout=args.timeout))
