"""`faber PHASE`: a FABER phase's database steps in order (`faber_db.faber.phase_steps`), stopping at
the first failure or approval need; one result with each step's own result inside.

Each step is the same command a person would run (parsed by the same parser), so an apply goes
through the same operation and guarded workflow, approval included, as `faber-db migrate` does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from faber_db.commands import COMMANDS
from faber_db.errors import FaberError
from faber_db.faber import phase_steps
from faber_db.results import ErrorInfo, Result, Timer, failure_from_error
from faber_db.runtime import Context


@dataclass
class PhaseDetails:
    phase: str
    work_id: str | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    stopped_at: str | None = None


@dataclass
class PhaseOptions:
    phase: str
    description: str | None = None
    approve: str | None = None
    allow_destructive: bool = False
    work_id: str | None = None


def run_phase(ctx: Context, options: PhaseOptions) -> Result:
    from faber_db.cli import build_parser

    plan = phase_steps(options.phase, description=options.description, approve=options.approve,
                       allow_destructive=options.allow_destructive)
    details = PhaseDetails(phase=options.phase, work_id=options.work_id)
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
    warnings = [w for r in results for w in r.warnings]
    if last.status == "failure":
        code = last.errors[0].code if last.errors else ""
        waiting = code == "APPROVAL_REQUIRED"
        message = (f"{options.phase}: waiting for the person's approval: {last.message}" if waiting
                   else f"{options.phase} stopped at `faber-db {details.stopped_at}`: {last.message}")
        fixes = last.suggested_fixes
        plan_id = _recorded_plan_id(details)
        if waiting and plan_id:
            # the phase is what the person approves and re-runs, with the plan its dry run recorded
            fixes = [f"faber-db faber {options.phase} --approve {plan_id}"]
        return Result(status="failure", operation="faber", environment=last.environment, message=message,
                      details=details, warnings=warnings,
                      errors=[ErrorInfo(e.code, e.message, e.hint) for e in last.errors], suggested_fixes=fixes)
    warned = any(r.status == "warning" for r in results)
    return Result(status="warning" if warned else "success", operation="faber", environment=last.environment,
                  message=f"{options.phase}: {last.message}", details=details, warnings=warnings,
                  suggested_fixes=[f for r in results for f in r.suggested_fixes][-3:])


def _recorded_plan_id(details: PhaseDetails) -> str | None:
    """The plan id the phase's dry run recorded, if any."""
    for step in details.steps:
        step_details = step.get("details")
        plan = step_details.get("plan") if isinstance(step_details, dict) else None
        if isinstance(plan, dict) and plan.get("plan_id") and "--dry-run" in str(step.get("command")):
            return str(plan["plan_id"])
    return None
