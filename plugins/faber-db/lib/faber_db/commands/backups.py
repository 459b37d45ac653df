"""`faber-db backups <env>`: the environment's backups, newest first (operations.backup)."""

from __future__ import annotations

import argparse

from faber_db.operations.backup import listing
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "List an environment's backups (newest first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return listing(ctx, args.environment)
