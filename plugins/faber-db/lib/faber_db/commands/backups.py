"""`faber-db backups <env>`: the environment's backups, newest first."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from faber_db.commands.backup import BackupEntry, entry
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "List an environment's backups (newest first)"


@dataclass
class BackupsDetails:
    directory: str
    backups: list[BackupEntry]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    from faber_db.backups import list_backups

    loaded = ctx.load()
    name, _ = loaded.environment(args.environment)
    directory = loaded.resolve(loaded.config.backup.directory)
    found = [entry(m) for m in list_backups(directory, name)]
    shown = directory / name
    try:
        shown = shown.relative_to(loaded.project_root)
    except ValueError:
        pass
    return Result(status="success", operation="backups", environment=name,
                  message=f"{len(found)} backup(s) of {name}" + (f", newest {found[0].id}" if found else ""),
                  details=BackupsDetails(directory=str(shown), backups=found))
