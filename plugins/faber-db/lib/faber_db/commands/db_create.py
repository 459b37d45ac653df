"""`faber-db db-create <env>`: create the environment's database when missing (operations.db_create)."""

from __future__ import annotations

import argparse

from faber_db.operations.db_create import DbCreateOptions, db_create
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "Create the environment's database if it does not exist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--dry-run", action="store_true", help="say whether it would be created, with a plan id")
    parser.add_argument("--approve", metavar="PLAN_ID", help="protected environments: the dry run's plan id")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return db_create(ctx, DbCreateOptions(environment=args.environment, dry_run=args.dry_run, approve=args.approve))
