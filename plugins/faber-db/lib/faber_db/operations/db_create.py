"""`db-create`: create the environment's database when it is missing (idempotent).

SQLite: the file. PostgreSQL: CREATE DATABASE through the server's maintenance database with the same
credentials (the engine's `create_database`). The environment's file lock is held as for every change;
there is no advisory lock to take on a database that does not exist yet, and nothing to back up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faber_db.engines import database_identity, engine
from faber_db.errors import FaberError
from faber_db.plans import Binding, Plan
from faber_db.results import Result
from faber_db.workflow import BackupScope, GuardedOperation, Request, Run, Step, run_guarded

if TYPE_CHECKING:
    from faber_db.runtime import Context


@dataclass
class DbCreateDetails:
    database: str = ""
    created: bool = False
    plan_id: str | None = None
    steps: list[Step] = field(default_factory=list)


@dataclass
class DbCreateOptions:
    environment: str
    dry_run: bool = False
    approve: str | None = None


def db_create(ctx: Context, options: DbCreateOptions) -> Result:
    return run_guarded(ctx, DbCreateOperation(options), Request(
        environment=options.environment, dry_run=options.dry_run, approve=options.approve))


class DbCreateOperation(GuardedOperation):
    name = "db-create"
    plan_step = "check_database"

    def __init__(self, options: DbCreateOptions) -> None:
        self.options = options
        self.details = DbCreateDetails()
        self.exists = False

    def backup_scope(self, run: Run) -> BackupScope:
        return "none"

    def read(self, run: Run) -> None:
        target = run.require_target()
        db_engine = engine(target.provider)
        name = db_engine.database_name(target.url, target.handler.schema_dir)
        self.details.database = f"{target.provider} database {name}"
        with run.steps.run("connect_server"):
            self.exists = db_engine.database_exists(target.url, target.handler.schema_dir)

    def plan(self, run: Run) -> Plan:
        from faber_db.operations.migrate import safety_binding

        target = run.require_target()
        binding = Binding(operation=self.name, environment=target.name,
                          database=database_identity(target.provider, target.url, target.handler.schema_dir),
                          safety=safety_binding(target), inputs={"create": self.details.database})
        return Plan(binding=binding, title=f"Create {self.details.database}",
                    summary=[f"create {self.details.database}"], has_changes=not self.exists)

    def apply(self, run: Run) -> None:
        target = run.require_target()
        with run.steps.run("create") as step:
            engine(target.provider).create_database(target.url, target.handler.schema_dir)
            step.message = f"created {self.details.database}"

    def verify(self, run: Run) -> None:
        target = run.require_target()
        with run.steps.run("verify") as step, target.connect() as db:
            db.query("SELECT 1")
            self.details.created = True
            step.message = f"{self.details.database} answers"

    def _sync(self, run: Run) -> None:
        self.details.plan_id = run.plan.plan_id if run.plan else None

    def preview_result(self, run: Run) -> Result:
        self._sync(run)
        target = run.require_target()
        approve = f" --approve {self.details.plan_id}" if target.env.protected else ""
        return Result(status="success", operation=self.name, environment=target.name, details=self.details,
                      message=f"Dry run: {self.details.database} does not exist and would be created; "
                      f"plan {self.details.plan_id}", suggested_fixes=[f"{self.command(run)}{approve}"])

    def nothing_to_do(self, run: Run) -> Result:
        self._sync(run)
        return Result(status="success", operation=self.name, environment=run.require_target().name,
                      message=f"{self.details.database} already exists; nothing to do", details=self.details)

    def success_result(self, run: Run) -> Result:
        self._sync(run)
        target = run.require_target()
        return Result(status="success", operation=self.name, environment=target.name,
                      message=f"Created {self.details.database}", details=self.details,
                      suggested_fixes=[f"Apply the migrations: `faber-db migrate {target.name}`"])

    def failure_result(self, run: Run, error: FaberError) -> Result:
        self._sync(run)
        return super().failure_result(run, error)
