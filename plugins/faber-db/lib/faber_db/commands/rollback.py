"""`faber-db rollback <env> [--last N | --to MIGRATION]`: undo applied migrations (operations.rollback)."""

from __future__ import annotations

import argparse

from faber_db.operations.rollback import RESTORE_FLAG, RollbackOptions, rollback
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "Undo the last N applied migrations (or back to one): their down.sql, or a backup from before them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--last", type=int, metavar="N", help="roll back the N newest applied migrations (default 1)")
    which.add_argument("--to", metavar="MIGRATION", help="roll back every migration applied after MIGRATION")
    parser.add_argument("--dry-run", action="store_true",
                        help="show the strategy, what it undoes, the rows lost and the plan id; change nothing")
    parser.add_argument("--approve", metavar="PLAN_ID", help="protected environments: the dry run's plan id")
    parser.add_argument("--allow-destructive", action="store_true",
                        help="protected environments: allow down scripts that drop data")
    parser.add_argument(RESTORE_FLAG, metavar="BACKUP_ID", dest="restore_backup",
                        help="confirm the backup to restore when it undoes more migrations than asked")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return rollback(ctx, RollbackOptions(
        environment=args.environment, last=args.last, to=args.to, dry_run=args.dry_run, approve=args.approve,
        allow_destructive=args.allow_destructive, restore_backup=args.restore_backup))
