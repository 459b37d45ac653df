"""Realistic Prisma migration histories written for faber-db's tests, with ground-truth labels.

Each history is a folder laid out the way a project keeps it in git::

    tests/corpus/<name>/schema.prisma   (or schema/*.prisma: a schema folder)
    tests/corpus/<name>/migrations/migration_lock.toml
    tests/corpus/<name>/migrations/<timestamp>_<name>/migration.sql
    tests/corpus/<name>/seed.sql        rows a production database would hold
    tests/corpus/<name>/expected.json   the ground truth below

Ground truth (README.md in this folder gives the labelling rules):

- :func:`labels`: every statement a destructive-change detector must report: migration, 1-based
  line of the statement's first token in its migration.sql, kind, table, and the rows it touches
  when seed rows exist at that point of the history.
- :func:`schema_drift`: what schema.prisma declares that no migration creates, and what the
  history creates that schema.prisma lacks.

Deploying a history (PostgreSQL templates owned by a non-superuser, SQLite files) lives in
:mod:`corpus.deploy`; replaying it statement by statement in :mod:`corpus.replay`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast, get_args

ROOT = Path(__file__).resolve().parent

Provider = Literal["postgresql", "sqlite"]
Kind = Literal[
    "drop_table",
    "drop_column",
    "alter_column_type",
    "set_not_null",
    "add_unique",
    "rename",
    "truncate",
    "delete_without_where",
    "update_without_where",
    "delete_where",
    "update_where",
    "drop_view",
    "drop_materialized_view",
    "drop_function",
    "drop_trigger",
    "drop_type",
    "drop_extension",
]
KINDS: tuple[Kind, ...] = get_args(Kind)

ROW_KINDS: frozenset[Kind] = frozenset(KINDS) - {
    "drop_view",
    "drop_function",
    "drop_trigger",
    "drop_type",
    "drop_extension",
}
"""Kinds that act on a relation holding rows; the others never carry a row count. A rename
carries one only when it renames a table, a column or a table constraint."""


@dataclass(frozen=True)
class Migration:
    name: str
    """Folder name: <14-digit timestamp>_<name>."""
    sql: str
    """migration.sql exactly as stored (decoded as UTF-8, line endings kept)."""
    path: Path
    """The migration.sql file."""


@dataclass(frozen=True)
class Label:
    """One statement a destructive-change detector must report."""

    migration: str
    line: int
    """1-based line of the statement's first token in migration.sql (comments before it skipped)."""
    kind: Kind
    table: str | None
    """The relation the statement changes ("public.Order"; bare names on SQLite), or None for
    drop_type, drop_function, drop_extension and renames of a type or an enum value."""
    target: str | None
    """What inside it: the column, constraint, index, trigger, type, function, extension or enum
    value ("public.Order.status", "public.OrderStatus.CANCELED"); None for row-level statements."""
    renamed_to: str | None
    """The new name of a rename, else None."""
    rows: int | None
    """Rows the statement touches on the seeded database at that point of the history (matching
    its WHERE for the *_where kinds, the copy's dropped rows for a filtered SQLite rebuild, else
    the rows of the table); None before the seed point and for kinds without rows."""


@dataclass(frozen=True)
class DriftItem:
    """An object on one side of schema.prisma vs. the history only."""

    kind: Literal["index"]
    name: str
    table: str
    seen_by_prisma: bool
    """Whether `prisma migrate diff --from-migrations ... --to-schema-datamodel ...` reports it.
    Prisma 6 does not read partial or expression indexes, so it cannot see those differences."""


@dataclass(frozen=True)
class SchemaDrift:
    declared_not_created: tuple[DriftItem, ...]
    """Declared in schema.prisma, created by no migration."""
    created_not_declared: tuple[DriftItem, ...]
    """Created by the history (by hand-written SQL), absent from schema.prisma."""


def names() -> list[str]:
    """The histories, sorted."""
    return sorted(p.parent.name for p in ROOT.glob("*/expected.json"))


def root(name: str) -> Path:
    """tests/corpus/<name>; ValueError for an unknown history."""
    folder = ROOT / name
    if not (folder / "expected.json").is_file():
        raise ValueError(f"no corpus history {name!r} (known: {', '.join(names())})")
    return folder


def migrations_dir(name: str) -> Path:
    return root(name) / "migrations"


def provider(name: str) -> Provider:
    """The provider migration_lock.toml names."""
    lock = (migrations_dir(name) / "migration_lock.toml").read_text()
    found = re.search(r'^provider\s*=\s*"([^"]+)"', lock, re.MULTILINE)
    value = found.group(1) if found else None
    if value not in get_args(Provider):
        raise ValueError(f"{name}: unexpected provider {value!r} in migration_lock.toml")
    return cast(Provider, value)


def schema_path(name: str) -> Path:
    """schema.prisma, or the schema folder (schema/*.prisma) of a multi-file schema."""
    folder = root(name) / "schema"
    return folder if folder.is_dir() else root(name) / "schema.prisma"


def seed_sql(name: str) -> str:
    return (root(name) / "seed.sql").read_text(encoding="utf-8")


@cache
def _all_migrations(name: str) -> tuple[Migration, ...]:
    folders = sorted(p for p in migrations_dir(name).iterdir() if (p / "migration.sql").is_file())
    return tuple(
        Migration(p.name, (p / "migration.sql").read_bytes().decode("utf-8"), p / "migration.sql") for p in folders
    )


def migration_index(name: str, migration: str) -> int:
    """0-based position of a migration in the history; ValueError when it is not there."""
    for index, item in enumerate(_all_migrations(name)):
        if item.name == migration:
            return index
    raise ValueError(f"{name}: no migration {migration!r}")


def history(name: str, upto: str | int | None = None) -> list[Migration]:
    """The migrations oldest first; upto: a count (the first N) or a migration name (inclusive)."""
    items = _all_migrations(name)
    if upto is None:
        return list(items)
    count = upto if isinstance(upto, int) else migration_index(name, upto) + 1
    if not 0 <= count <= len(items):
        raise ValueError(f"{name}: upto={upto} is outside 0..{len(items)}")
    return list(items[:count])


@cache
def _expected(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((root(name) / "expected.json").read_text())
    return data


def seed_after(name: str) -> str:
    """The migration after which seed.sql is loaded (seed.sql is written for the schema there)."""
    return str(_expected(name)["seed_after"])


def superuser_extensions(name: str) -> list[str]:
    """Extensions a superuser creates in public before the (non-superuser) owner deploys;
    the history's own CREATE EXTENSION IF NOT EXISTS then finds them. Empty on SQLite."""
    return [str(e) for e in cast(list[object], _expected(name).get("superuser_extensions", []))]


def labels(name: str) -> list[Label]:
    """The ground truth, in history order."""
    raw = cast(list[dict[str, object]], _expected(name)["labels"])
    result: list[Label] = []
    for item in raw:
        kind = str(item["kind"])
        if kind not in KINDS:
            raise ValueError(f"{name}: unknown kind {kind!r}")
        rows = item.get("rows")
        result.append(
            Label(
                migration=str(item["migration"]),
                line=int(cast(int, item["line"])),
                kind=kind,
                table=_optional_str(item.get("table")),
                target=_optional_str(item.get("target")),
                renamed_to=_optional_str(item.get("renamed_to")),
                rows=None if rows is None else int(cast(int, rows)),
            )
        )
    return result


def schema_drift(name: str) -> SchemaDrift:
    raw = cast(dict[str, list[dict[str, object]]], _expected(name)["schema_drift"])

    def items(side: str) -> tuple[DriftItem, ...]:
        return tuple(
            DriftItem(
                kind="index",
                name=str(item["name"]),
                table=str(item["table"]),
                seen_by_prisma=bool(item["seen_by_prisma"]),
            )
            for item in raw[side]
        )

    return SchemaDrift(items("declared_not_created"), items("created_not_declared"))


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
