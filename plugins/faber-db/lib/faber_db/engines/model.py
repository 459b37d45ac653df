"""The plain data the engines hand back, and the pieces both engines share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from faber_db.handlers import known_tools

Row = tuple[Any, ...]
Progress = Callable[[str], None]

# object kind -> {(table, name): definition}; objects that belong to no table use (name, name)
Catalog = dict[str, dict[tuple[str, str], str]]

# Every migration tool's history table (each tool declares its own), told apart from user data in
# snapshots and their differences.
HISTORY_TABLES = frozenset(facts.history_table for facts in known_tools().values())


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
    of its catalog. Tables are keyed by name; on PostgreSQL a table outside the URL's schema by its
    qualified, quoted name (`audit."Event"`). The history table is included like any table (under
    its own name); use `data_tables` / `migrations_table` to tell the migration history from user
    data."""

    tables: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    schema_hash: str = ""
    # PostgreSQL: each sequence's "last_value:is_called", and each installed extension's
    # "version@schema"; None where the engine (or an older manifest) records none
    sequences: dict[str, str] | None = None
    extensions: dict[str, str] | None = None

    @property
    def data_tables(self) -> dict[str, int]:
        return {name: n for name, n in self.tables.items() if name not in HISTORY_TABLES}

    @property
    def migrations_table(self) -> tuple[int, str] | None:
        """(row count, checksum) of the history table, or None when the table is absent."""
        table = next((name for name in sorted(self.tables) if name in HISTORY_TABLES), None)
        if table is None:
            return None
        return self.tables[table], self.checksums.get(table, "")

    def to_dict(self) -> dict[str, Any]:
        return {"tables": dict(self.tables), "checksums": dict(self.checksums), "schema_hash": self.schema_hash,
                "sequences": None if self.sequences is None else dict(self.sequences),
                "extensions": None if self.extensions is None else dict(self.extensions)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataSnapshot:
        def texts(value: Any) -> dict[str, str] | None:
            return None if value is None else {str(k): str(v) for k, v in dict(value).items()}

        return cls(
            tables={str(k): int(v) for k, v in dict(data.get("tables") or {}).items()},
            checksums={str(k): str(v) for k, v in dict(data.get("checksums") or {}).items()},
            schema_hash=str(data.get("schema_hash") or ""),
            sequences=texts(data.get("sequences")),
            extensions=texts(data.get("extensions")),
        )


def _label(table: str) -> str:
    return f"{table} (migration history)" if table in HISTORY_TABLES else table


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
    if a.sequences is not None and b.sequences is not None:
        for name in sorted(a.sequences.keys() | b.sequences.keys()):
            want, have = a.sequences.get(name), b.sequences.get(name)
            if want != have:
                out.append(f"sequence {name}: {_sequence_state(have)}, expected {_sequence_state(want)}")
    if a.extensions is not None and b.extensions is not None:
        for name in sorted(a.extensions.keys() | b.extensions.keys()):
            want, have = a.extensions.get(name), b.extensions.get(name)
            if want is None:
                out.append(f"extension {name} ({have}) was installed since")
            elif have is None:
                out.append(f"extension {name} ({want}) is not installed")
            elif want != have:
                out.append(f"extension {name}: {have}, expected {want}")
    if _format(a.schema_hash) == _format(b.schema_hash) and a.schema_hash != b.schema_hash:
        # (fingerprints of different formats are not comparable: an older faber-db wrote one)
        out.append("schema differs (tables, columns, types, indexes or constraints)")
    return out


def _format(schema_hash: str) -> str:
    return schema_hash.split(":", 1)[0] if ":" in schema_hash else ""


def _sequence_state(state: str | None) -> str:
    if state is None:
        return "absent"
    value, _, called = state.partition(":")
    return f"at {value}" if called == "true" else f"next value {value}"


@dataclass(frozen=True)
class TakenBackup:
    """What an engine's backup reports: the verified state it saved, and how it checked it."""

    snapshot: DataSnapshot
    tool_versions: dict[str, str]
    verification: str
    # PostgreSQL: the schemas the backup is responsible for, the URL's first (the archive holds
    # those of them that existed); None where the whole database is one file
    schemas: list[str] | None = None
