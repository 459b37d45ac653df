"""The plain data the engines hand back, and the pieces both engines share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Row = tuple[Any, ...]
Progress = Callable[[str], None]

# object kind -> {(table, name): definition}; objects that belong to no table use (name, name)
Catalog = dict[str, dict[tuple[str, str], str]]

# The migration history table, told apart from user data in snapshots and their differences.
HISTORY_TABLE = "_prisma_migrations"


class Queryable(Protocol):
    """Anything that answers SQL: an open database, or a backup file opened read-only."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


def quote_ident(name: str) -> str:
    """An SQL identifier, quoted as SQLite and PostgreSQL both read it ("a""b" is a"b)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """An SQL string literal (standard_conforming_strings: backslashes are plain characters)."""
    return "'" + value.replace("'", "''") + "'"


def say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


@dataclass
class DataSnapshot:
    """What a database held at one moment: per-table row counts and content checksums, and a hash
    of its catalog. The history table is included like any table (under its own name); use
    `data_tables` / `migrations_table` to tell the migration history from user data."""

    tables: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    schema_hash: str = ""

    @property
    def data_tables(self) -> dict[str, int]:
        return {name: n for name, n in self.tables.items() if name != HISTORY_TABLE}

    @property
    def migrations_table(self) -> tuple[int, str] | None:
        """(row count, checksum) of the history table, or None when the table is absent."""
        if HISTORY_TABLE not in self.tables:
            return None
        return self.tables[HISTORY_TABLE], self.checksums.get(HISTORY_TABLE, "")

    def to_dict(self) -> dict[str, Any]:
        return {"tables": dict(self.tables), "checksums": dict(self.checksums), "schema_hash": self.schema_hash}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataSnapshot:
        return cls(
            tables={str(k): int(v) for k, v in dict(data.get("tables") or {}).items()},
            checksums={str(k): str(v) for k, v in dict(data.get("checksums") or {}).items()},
            schema_hash=str(data.get("schema_hash") or ""),
        )


def _label(table: str) -> str:
    return f"{table} (migration history)" if table == HISTORY_TABLE else table


def diff_snapshots(a: DataSnapshot, b: DataSnapshot) -> list[str]:
    """Human-readable differences from `a` (expected) to `b` (actual); empty when equal."""
    out: list[str] = []
    for name in sorted(set(a.tables) - set(b.tables)):
        out.append(f"table {_label(name)} is missing ({a.tables[name]} rows expected)")
    for name in sorted(set(b.tables) - set(a.tables)):
        out.append(f"table {_label(name)} is unexpected ({b.tables[name]} rows)")
    for name in sorted(set(a.tables) & set(b.tables)):
        if a.tables[name] != b.tables[name]:
            out.append(f"table {_label(name)}: {b.tables[name]} rows, expected {a.tables[name]}")
        elif a.checksums.get(name) != b.checksums.get(name):
            out.append(f"table {_label(name)}: same row count ({a.tables[name]}) but different content")
    if a.schema_hash != b.schema_hash:
        out.append("schema differs (tables, columns, types, indexes or constraints)")
    return out


@dataclass(frozen=True)
class TakenBackup:
    """What an engine's backup reports: the verified state it saved, and how it checked it."""

    snapshot: DataSnapshot
    tool_versions: dict[str, str]
    verification: str
    # PostgreSQL: the schemas the archive holds; None where the whole database is one file
    schemas: list[str] | None = None
