"""Drift, two kinds. Database drift: does the live database match what its applied migration history
produces? Schema drift: does the migration history produce what the schema declares (an index the
schema has that no migration creates, one a migration created by hand that the schema lacks)?

Database drift (chosen over a migration tool's own check, which wants a shadow database URL):
replay the applied migrations' SQL into a throwaway database (SQLite: a temp file; PostgreSQL: a
temp database on the same server, always dropped) through faber-db's own driver, then compare the
two catalogs ourselves. It needs no shadow-database flags (which tool versions treat differently),
costs no tool start (tens of ms instead of ~1 s), and names each differing table, column, index,
constraint, view, function, trigger or policy instead of printing a SQL script. Schema drift is the
diff `generate-migration` computes, said step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.engines import Catalog, Database
    from faber_db.handlers.base import LocalMigration, SchemaDiff
    from faber_db.runtime import Target

@dataclass
class Difference:
    object: str  # table / column / index / constraint / enum / view / function / trigger / policy / ...
    table: str
    name: str
    change: str  # "only in the database" / "missing from the database" / "differs"
    expected: str | None = None
    actual: str | None = None

    def describe(self) -> str:
        where = f"{self.table}.{self.name}" if self.object != "table" else self.table
        return f"{self.object} {where}: {self.change}"


def read_catalog(db: Database, history_table: str) -> Catalog:
    """The database's shape without the migration tool's own history table (a replay has none)."""
    return db.catalog(skip_tables=frozenset({history_table}))


def compare(expected: Catalog, actual: Catalog) -> list[Difference]:
    differences: list[Difference] = []
    # a table only one side has is reported once, as the table: from the tables themselves (an index on
    # a table whose other objects match is no such table, even when it is the table's only index)
    want_tables, have_tables = {t for t, _ in expected.get("table", {})}, {t for t, _ in actual.get("table", {})}
    for kind in expected.keys() | actual.keys():
        want, have = expected.get(kind, {}), actual.get(kind, {})
        dropped_tables = want_tables - have_tables if kind != "table" else set()
        added_tables = have_tables - want_tables if kind != "table" else set()
        for key in sorted(want.keys() | have.keys()):
            table, name = key
            if kind != "table" and (table in dropped_tables or table in added_tables):
                continue  # reported once, as the table
            if key not in have:
                differences.append(Difference(kind, table, name, "missing from the database", want[key], None))
            elif key not in want:
                differences.append(Difference(kind, table, name, "only in the database (not in any migration)",
                                              None, have[key]))
            elif want[key] != have[key]:
                differences.append(Difference(kind, table, name, "differs from the migrations", want[key], have[key]))
    order = {"table": 0, "column": 1, "index": 2, "constraint": 3, "enum": 4}
    return sorted(differences, key=lambda d: (order.get(d.object, 9), d.table, d.name))


def replay(db: Database, migrations: list[LocalMigration]) -> None:
    for migration in migrations:
        try:
            db.run_script(migration.up_text())
        except FaberError as exc:
            raise FaberError("DRIFT_DETECTED", f"Replaying {migration.name} into a scratch database failed: "
                             f"{exc.message}",
                             "The migration history itself does not apply cleanly; check that migration.") from None


def detect(target: Target, live: Database, applied: list[str]) -> list[Difference]:
    """Differences between the live database and a replay of its applied migrations."""
    from faber_db.engines import engine

    wanted = set(applied)
    history = [m for m in target.handler.local_migrations() if m.name in wanted]
    with engine(target.provider).scratch_database(target.url, target.handler.schema_dir) as scratch:
        replay(scratch, history)
        expected = read_catalog(scratch, target.handler.history_table)
    return compare(expected, read_catalog(live, target.handler.history_table))


SCHEMA_ONLY = "declared in the schema, created by no migration"
HISTORY_ONLY = "created by the migrations, not in the schema"
CHANGED = "differs between the schema and the migrations"


@dataclass
class SchemaChange:
    """One step of the diff from the whole migration history to the schema: what the next generated
    migration would do, so what the history and the schema disagree on."""

    change: str  # SCHEMA_ONLY / HISTORY_ONLY / CHANGED
    step: str  # the tool's name for the step ("CreateIndex")
    object: str
    statement: str

    def describe(self) -> str:
        return f"{self.object or self.step}: {self.change}"


def schema_changes(diff: SchemaDiff, summarize: Callable[[str], list[dict[str, str]]]) -> list[SchemaChange]:
    """The steps of a history → schema diff, each said as which side has what. A step that creates or
    adds is something only the schema has; one that drops, something only the history made."""
    if not diff.changed:
        return []
    changes = []
    for step in summarize(diff.up_sql):
        verb = step["kind"]
        change = (SCHEMA_ONLY if verb.startswith(("Create", "Add")) else
                  HISTORY_ONLY if verb.startswith("Drop") else CHANGED)
        changes.append(SchemaChange(change, verb, step["object"], step["statement"]))
    if not changes:  # a diff whose steps the tool does not head: one change, the script's first line
        first = next((line.strip() for line in diff.up_sql.splitlines() if line.strip()), "")
        changes.append(SchemaChange(CHANGED, "", "", first[:200]))
    return changes


def describe_schema_changes(changes: list[SchemaChange], shown: int = 3) -> str:
    more = f" (+{len(changes) - shown} more)" if len(changes) > shown else ""
    return "; ".join(c.describe() for c in changes[:shown]) + more


def as_dicts(items: Sequence[Difference | SchemaChange]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]
