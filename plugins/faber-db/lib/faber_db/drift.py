"""Drift: does the live database match what its applied migration history produces?

Design (chosen over Prisma's `migrate diff --from-migrations … --to-url`): replay the applied
migrations' SQL into a throwaway database (SQLite: a temp file; PostgreSQL: a temp database on the
same server, always dropped) through faber-db's own driver, then compare the two catalogs
ourselves. It needs no shadow-database flags (which Prisma 7 and driver adapters treat differently),
works the same for every Prisma version, costs no Node start (tens of ms instead of ~1 s), and names
each differing table, column, index, constraint, view, function, trigger or policy instead of
printing a SQL script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.engines import Catalog, Database
    from faber_db.handlers.base import LocalMigration
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


def as_dicts(differences: list[Difference]) -> list[dict[str, Any]]:
    return [{"object": d.object, "table": d.table, "name": d.name, "change": d.change,
             "expected": d.expected, "actual": d.actual} for d in differences]
