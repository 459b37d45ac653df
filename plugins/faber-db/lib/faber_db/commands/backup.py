"""`faber-db backup <env>`: a verified backup with a manifest, then retention pruning (operations.backup)."""

from __future__ import annotations

import argparse

from faber_db.operations.backup import take
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "Take a verified backup of an environment (SQLite backup API / pg_dump -Fc)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--label", help="a note stored in the manifest (e.g. 'before hotfix')")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return take(ctx, args.environment, args.label)
