"""`faber-db faber <phase>`: a FABER phase's database steps (operations.faber)."""

from __future__ import annotations

import argparse

from faber_db.faber import add_phase_arguments
from faber_db.operations.faber import PhaseOptions, run_phase
from faber_db.results import Result
from faber_db.runtime import Context

HELP = "Run a FABER phase's database steps (architect, build, evaluate, release)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_phase_arguments(parser)


def run(ctx: Context, args: argparse.Namespace) -> Result:
    return run_phase(ctx, PhaseOptions(phase=args.phase, description=args.description, approve=args.approve,
                                       allow_destructive=args.allow_destructive, work_id=args.work_id))
