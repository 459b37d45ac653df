"""`faber-db restore <env> --from BACKUP_ID`: put a verified backup back, safely (operations.restore)."""

from __future__ import annotations

import argparse

from faber_db.operations.restore import RestoreOptions, restore
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "Restore an environment from a verified backup (after backing up the current state)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--from", dest="backup_id", required=True, metavar="BACKUP_ID",
                        help="the backup id (see `faber-db backups ENV`)")
    parser.add_argument("--dry-run", action="store_true",
                        help="show the live rows the restore removes and the plan id; change nothing")
    parser.add_argument("--approve", metavar="PLAN_ID", help="protected environments: the dry run's plan id")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return restore(ctx, RestoreOptions(environment=args.environment, backup_id=args.backup_id, dry_run=args.dry_run,
                                       approve=args.approve))
