"""`faber-db db-create <env>`: create the environment's database when it is missing (idempotent).

SQLite: the file. PostgreSQL: CREATE DATABASE through the server's maintenance database with the
same credentials. Protected environments need the plan-id approval.
"""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import dataclass, field, replace

from faber_db.engines import (
    PostgresDatabase,
    PostgresTarget,
    database_identity,
    parse_postgres_url,
    parse_sqlite_url,
)
from faber_db.errors import FaberError
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
    plan_id = plan_hash(target.name, database_identity(target.provider, target.url, target.handler.schema_dir),
                        "db-create")
    if target.provider == "sqlite":
        path = parse_sqlite_url(target.url, target.handler.schema_dir).path
        name, exists = path.name, path.is_file()
    else:
        pg = parse_postgres_url(target.url)
        name = pg.database
        with steps.run("connect_server"), PostgresDatabase(_maintenance(pg)) as server:
            exists = bool(server.query("SELECT 1 FROM pg_database WHERE datname = ?", (name,)))
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
        if target.provider == "sqlite":
            if not path.parent.is_dir():
                raise FaberError("INVALID_ARGUMENT", f"The folder for {name} does not exist",
                                 "Create the folder first, or fix the environment's SQLite URL.")
            sqlite3.connect(str(path)).close()
        else:
            with PostgresDatabase(_maintenance(pg)) as server:
                server.execute(f'CREATE DATABASE "{name.replace(chr(34), chr(34) * 2)}"')
        details.created = True
        step.message = f"created {details.database}"
    result = Result(status="success", operation="db-create", environment=target.name,
                    message=f"Created {details.database}", details=details,
                    suggested_fixes=[f"Apply the migrations: faber-db migrate {target.name}"])
    record_audit(target, steps, result, {"operation": "db-create", "plan_id": plan_id, "approved": bool(args.approve)})
    return result


def _maintenance(target: PostgresTarget) -> PostgresTarget:
    """The same server and credentials, on the `postgres` maintenance database."""
    return replace(target, database="postgres", schema="public")
