"""The plain data the engines hand back, and the pieces both engines share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

Row = tuple[Any, ...]
Progress = Callable[[str], None]

# object kind -> {(table, name): definition}; objects that belong to no table use (name, name)
Catalog = dict[str, dict[tuple[str, str], str]]


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
