"""Split a migration.sql into statements, each with the line its first token is on."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

import pglast

from . import Provider

_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


@dataclass(frozen=True)
class Statement:
    line: int
    """1-based line of the first token (comments and blank lines before it skipped)."""
    text: str
    """From the first token to the end of the statement, without the closing semicolon."""


def split(sql: str, provider: Provider) -> list[Statement]:
    """Statements in file order; comment-only scripts give an empty list.

    PostgreSQL uses pglast's scanner, which knows dollar quoting ($$, $tag$), so a DO block or a
    function body is one statement. SQLite uses sqlite3.complete_statement, which knows that a
    CREATE TRIGGER ... BEGIN ...; END is one statement.
    """
    spans = _pg_spans(sql) if provider == "postgresql" else _sqlite_spans(sql)
    result: list[Statement] = []
    for start, end in spans:
        skipped = _LEADING_NOISE.match(sql, start)
        first = skipped.end() if skipped else start
        text = sql[first:end].rstrip().removesuffix(";").rstrip()
        if text:
            result.append(Statement(line=sql.count("\n", 0, first) + 1, text=text))
    return result


def _pg_spans(sql: str) -> list[tuple[int, int]]:
    return [(s.start, s.stop) for s in pglast.split(sql, with_parser=False, only_slices=True)]


def _sqlite_spans(sql: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for index, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : index + 1]):
            spans.append((start, index + 1))
            start = index + 1
    if sql[start:].strip():
        spans.append((start, len(sql)))
    return spans
