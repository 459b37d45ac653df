"""`faber-db faber <phase>`: run a FABER phase's database steps in order, stopping at the first
failure or approval need; one result with each step's own result inside."""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, field
from typing import Any

from faber_db.cli import build_parser
from faber_db.commands import COMMANDS
from faber_db.errors import FaberError
from faber_db.faber import add_phase_arguments, phase_steps
from faber_db.results import ErrorInfo, Result, Timer, failure_from_error
from faber_db.runtime import Context

HELP = "Run a FABER phase's database steps (architect, build, evaluate, release)"


@dataclass
class PhaseDetails:
    phase: str
    work_id: str | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    stopped_at: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_phase_arguments(parser)


def run(ctx: Context, args: argparse.Namespace) -> Result:
    plan = phase_steps(args.phase, description=args.description, approve=args.approve,
                       allow_destructive=args.allow_destructive)
    details = PhaseDetails(phase=args.phase, work_id=args.work_id)
    results: list[Result] = []
    for step in plan:
        timer = Timer()
        name = step.command[0]
        try:
            sub_args = build_parser(name).parse_args(step.command)
            sub_result: Result = importlib.import_module(COMMANDS[name][0]).run(ctx, sub_args)
        except FaberError as error:
            sub_result = failure_from_error(error, name, None)
        sub_result.duration_ms = timer.ms
        results.append(sub_result)
        details.steps.append({"command": "faber-db " + " ".join(step.command), **sub_result.to_dict()})
        if sub_result.status == "failure":
            details.stopped_at = " ".join(step.command)
            break
    last = results[-1]
    if last.status == "failure":
        approval = bool(last.errors) and last.errors[0].code in ("APPROVAL_REQUIRED", "DESTRUCTIVE_CHANGE")
        message = (f"{args.phase}: waiting for approval: {last.message}" if approval
                   else f"{args.phase} stopped at `faber-db {details.stopped_at}`: {last.message}")
        fixes = last.suggested_fixes
        plan_id = _plan_id(details)
        if approval and plan_id:
            # the phase is what the person re-runs, with the plan they approved
            flags = " --allow-destructive" if last.errors[0].code == "DESTRUCTIVE_CHANGE" else ""
            fixes = [f"faber-db faber {args.phase} --approve {plan_id}{flags}"]
        return Result(status="failure", operation="faber", environment=last.environment, message=message,
                      details=details, warnings=[w for r in results for w in r.warnings],
                      errors=[ErrorInfo(e.code, e.message, e.hint) for e in last.errors],
                      suggested_fixes=fixes)
    warned = any(r.status == "warning" for r in results)
    return Result(status="warning" if warned else "success", operation="faber", environment=last.environment,
                  message=f"{args.phase}: {last.message}", details=details,
                  warnings=[w for r in results for w in r.warnings],
                  suggested_fixes=[f for r in results for f in r.suggested_fixes][-3:])


def _plan_id(details: PhaseDetails) -> str | None:
    """The plan id the phase's dry run (or refused apply) reported, if any."""
    for step in reversed(details.steps):
        plan = (step.get("details") or {}).get("plan") if isinstance(step.get("details"), dict) else None
        if isinstance(plan, dict) and plan.get("plan_id"):
            return str(plan["plan_id"])
    return None
