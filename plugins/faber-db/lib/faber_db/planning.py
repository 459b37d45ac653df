"""What is applied, pending, failed or changed: the local migrations folder against the history
table. Pure functions over the handler's plain data, so status, plan and verify agree exactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faber_db.handlers.base import AppliedMigration, LocalMigration
from faber_db.results import Finding

if TYPE_CHECKING:
    from faber_db.config import DestructiveRule
    from faber_db.engines import Database


@dataclass
class MigrationState:
    local: list[LocalMigration]
    applied: list[str] = field(default_factory=list)
    pending: list[LocalMigration] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    missing_locally: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.pending or self.failed or self.modified or self.missing_locally)

    @property
    def pending_names(self) -> list[str]:
        return [m.name for m in self.pending]


def compute_state(local: list[LocalMigration], history: list[AppliedMigration]) -> MigrationState:
    """Classify every migration. A name can have several rows (rolled back, then applied again):
    a finished, not rolled-back row wins; else an unfinished one means failed; else rolled back."""
    by_name: dict[str, list[AppliedMigration]] = {}
    for row in history:
        by_name.setdefault(row.name, []).append(row)

    state = MigrationState(local=local)
    local_names = {m.name for m in local}
    for migration in local:
        rows = by_name.get(migration.name, [])
        live = [r for r in rows if r.rolled_back_at is None]
        done = [r for r in live if r.finished_at is not None]
        if done:
            state.applied.append(migration.name)
            if all(r.checksum != migration.checksum for r in done):
                state.modified.append(migration.name)
        elif live:
            state.failed.append(migration.name)
        else:
            if rows:
                state.rolled_back.append(migration.name)
            state.pending.append(migration)
    for name, rows in by_name.items():
        if name in local_names:
            continue
        live = [r for r in rows if r.rolled_back_at is None]
        if any(r.finished_at is not None for r in live):
            state.missing_locally.append(name)
        elif live:
            state.failed.append(name)
        else:
            state.rolled_back.append(name)
    return state


@dataclass
class PlannedMigration:
    name: str
    checksum: str
    sql: str


@dataclass
class Plan:
    """What `migrate` would do now. Its id binds environment, database and exact migration files."""

    plan_id: str
    environment: str
    pending: list[PlannedMigration]
    findings: list[Finding]
    destructive: bool
    blocked: list[str]
    approval_level: str | None
    requires_backup: bool


def plan_id(environment: str, database_identity: str, pending: list[LocalMigration]) -> str:
    from faber_db.workflow import plan_hash

    return plan_hash(environment, database_identity, *(f"{m.name}:{m.checksum}" for m in pending))


def make_plan(environment: str, database_identity: str, state: MigrationState, provider: str,
              rules: dict[str, DestructiveRule], db: Database | None) -> Plan:
    """The plan: pending migrations in order, their SQL and the risky statements in them, with the
    live row count of each table touched (from `db`), judged against the config's rules."""
    from faber_db.safety import analyze_migrations, count_rows, evaluate

    pending = [PlannedMigration(m.name, m.checksum, m.sql_path.read_text("utf-8", errors="replace"))
               for m in state.pending]
    # the applied history tells the analysis what the tables look like now (old types, columns)
    applied = set(state.applied)
    history = [m.sql_path.read_text("utf-8", errors="replace") for m in state.local if m.name in applied]
    findings: list[Finding] = analyze_migrations([(m.name, m.sql) for m in pending], provider, history=history)
    if provider == "postgresql" and pending:
        from faber_db.safety import lint_locks_many

        findings += lint_locks_many([(m.name, m.sql) for m in pending])
    if db is not None and findings:
        count_rows(findings, db)
    decision = evaluate(findings, rules)
    return Plan(
        plan_id=plan_id(environment, database_identity, state.pending),
        environment=environment,
        pending=pending,
        findings=findings,
        destructive=bool(decision.needs_approval or decision.blocked),
        blocked=[f"{f.migration}:{f.line} {f.kind}" for f in decision.blocked],
        approval_level=decision.approval_level if decision.needs_approval else None,
        requires_backup=decision.requires_backup,
    )
