"""`faber-db db-create <env>`: create the environment's database when it is missing (idempotent).

SQLite: the file. PostgreSQL: CREATE DATABASE through the server's maintenance database with the
same credentials. Protected environments need the plan-id approval.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from faber_db.engines import engine
from faber_db.results import Result
from faber_db.runtime import Context
from faber_db.workflow import Step, Steps, approval_source, plan_hash, record_audit

HELP = "Create the environment's database if it does not exist"


@dataclass
class DbCreateDetails:
    database: str
    created: bool
    plan_id: str
    steps: list[Step] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name from the config")
    parser.add_argument("--approve", metavar="PLAN_ID", help="protected environments: the plan id shown when refused")


def run(ctx: Context, args: argparse.Namespace) -> Result:
    target = ctx.target(args.environment)
    steps = Steps()
    db_engine = engine(target.provider)
    schema_dir = target.handler.schema_dir
    plan_id = plan_hash(target.name, db_engine.identity(target.url, schema_dir), "db-create")
    name = db_engine.database_name(target.url, schema_dir)
    with steps.run("connect_server"):
        exists = db_engine.database_exists(target.url, schema_dir)
    details = DbCreateDetails(database=f"{target.provider} database {name}", created=False, plan_id=plan_id,
                              steps=steps.records)
    if exists:
        return Result(status="success", operation="db-create", environment=target.name,
                      message=f"{details.database} already exists; nothing to do", details=details)
    if target.env.protected:
        with steps.run("approval") as step:
            step.message = approval_source(target, args.approve, plan_id, action=f"Creating {details.database}",
                                           command=f"faber-db db-create {target.name}", details={"plan_id": plan_id})
    with steps.run("create") as step:
        db_engine.create_database(target.url, schema_dir)
        details.created = True
        step.message = f"created {details.database}"
    result = Result(status="success", operation="db-create", environment=target.name,
                    message=f"Created {details.database}", details=details,
                    suggested_fixes=[f"Apply the migrations: faber-db migrate {target.name}"])
    record_audit(target, steps, result, {"operation": "db-create", "plan_id": plan_id, "approved": bool(args.approve)})
    return result

