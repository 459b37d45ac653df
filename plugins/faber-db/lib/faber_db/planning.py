"""What is applied, pending, failed or changed: the local migrations folder against the history
table. Pure functions over the handler's plain data, so status, plan and verify agree exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

from faber_db.handlers.base import AppliedMigration, LocalMigration


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
