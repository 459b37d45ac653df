"""What the analysis knows while it reads a migration history: the tables and their columns,
the unique indexes, what the migrations being analyzed created, Prisma's warning comments; and
the analyzer base class the PostgreSQL and SQLite analyzers share.

Prisma's warning comments (`/* Warnings: ... */`) refine what the SQL alone cannot say (the old
type of a column, the columns a SQLite table redefinition drops) but nothing depends on them:
without them the analysis stays on the cautious side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from faber_db.results import Finding
from faber_db.safety.kinds import DESTRUCTIVE_KINDS, SEVERITY_ORDER, UNPARSED, Severity
from faber_db.safety.statements import Stmt, clip

_WARN_DROP_COLUMN = re.compile(r"drop the column `([^`]+)` on the `([^`]+)` table")
_WARN_DROP_TABLE = re.compile(r"drop the `([^`]+)` table")
_WARN_CAST = re.compile(
    r"alter the column `([^`]+)` on the `([^`]+)` table.*?cast from `([^`]+)` to `([^`]+)`", re.S
)
_WARN_REQUIRED = re.compile(r"Made the column `([^`]+)` on table `([^`]+)` required")
_WARN_UNIQUE = re.compile(r"unique constraint covering the columns `[^`]*` on the table `([^`]+)`")


@dataclass
class PrismaWarnings:
    dropped_columns: dict[str, set[str]] = field(default_factory=dict)
    dropped_tables: set[str] = field(default_factory=set)
    casts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    made_required: set[tuple[str, str]] = field(default_factory=set)
    unique_added: set[str] = field(default_factory=set)
    present: bool = False

    @classmethod
    def read(cls, comments: Iterable[str]) -> PrismaWarnings:
        warnings = cls()
        for text in comments:
            if "Warnings:" not in text:
                continue
            warnings.present = True
            flat = " ".join(text.split())
            for column, table in _WARN_DROP_COLUMN.findall(flat):
                warnings.dropped_columns.setdefault(table, set()).add(column)
            for table in _WARN_DROP_TABLE.findall(flat):
                warnings.dropped_tables.add(table)
            for column, table, old, new in _WARN_CAST.findall(flat):
                warnings.casts[(table, column)] = (old, new)
            for column, table in _WARN_REQUIRED.findall(flat):
                warnings.made_required.add((table, column))
            for table in _WARN_UNIQUE.findall(flat):
                warnings.unique_added.add(table)
        return warnings


@dataclass
class Column:
    type: str | None
    not_null: bool = False
    has_default: bool = False


@dataclass
class Table:
    columns: dict[str, Column] = field(default_factory=dict)
    known: bool = True  # False: the table exists but its columns are not known


class Analyzer:
    """Replays a history, then reports the findings of each migration analyzed. A subclass reads
    one database's SQL (`_run`)."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}  # what exists before the pending migrations run
        self.unique_indexes: set[str] = set()
        self.created: set[str] = set()  # created by the migrations being analyzed (no data yet)
        self.redefined: set[str] = set()  # SQLite tables redefined by the migration being analyzed
        self.findings: list[Finding] = []
        self.migration: str | None = None
        self.recording = True
        self.warnings = PrismaWarnings()

    # entry points

    def replay(self, sql: str) -> None:
        self.recording = False
        try:
            self._run(sql)
        finally:
            self.recording = True
            self.created.clear()  # history has run: its tables are existing tables now

    def analyze(self, sql: str, migration: str | None) -> list[Finding]:
        self.findings = []
        self.migration = migration
        self.redefined = set()
        self._run(sql)
        return self.findings

    def _run(self, sql: str) -> None:
        raise NotImplementedError

    # helpers

    def add(
        self,
        kind: str,
        severity: Severity,
        line: int,
        statement: str,
        table: str | None,
        message: str,
        *,
        column: str | None = None,
    ) -> None:
        if not self.recording:
            return
        if (
            table is not None
            and table in self.created
            and kind in DESTRUCTIVE_KINDS
            and SEVERITY_ORDER[severity] > SEVERITY_ORDER["low"]
        ):
            severity = "low"
            message += " (the table is created by the same migration: no existing data)"
        self.findings.append(
            Finding(
                statement=clip(statement),
                line=line,
                kind=kind,
                severity=severity,
                table=table,
                migration=self.migration,
                message=message,
                column=column,
            )
        )

    def unparsed(self, stmt: Stmt, why: str | None) -> None:
        self.add(UNPARSED, "medium", stmt.line, stmt.text, None,
                 f"The statement could not be analyzed ({why or 'parse error'}); review it by hand")

    def table(self, name: str) -> Table:
        return self.tables.setdefault(name, Table(known=False))

    def exists(self, name: str) -> bool:
        return name not in self.created

    def create_table(self, name: str, columns: dict[str, Column]) -> None:
        self.tables[name] = Table(columns)
        self.created.add(name)

    def drop_table(self, name: str) -> None:
        self.tables.pop(name, None)
        self.created.discard(name)

    def rename_table(self, old: str, new: str) -> None:
        self.tables[new] = self.tables.pop(old, Table(known=False))
        if old in self.created:
            self.created.discard(old)
            self.created.add(new)
        else:
            self.created.discard(new)
