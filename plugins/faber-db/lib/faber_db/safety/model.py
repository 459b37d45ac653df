"""What the analysis knows while it reads a migration history: the tables and their columns,
the unique indexes, which migration created each object, the migration tool's warning comments; how the rows
a finding touches are counted; and the analyzer base class the PostgreSQL and SQLite analyzers share.

Severity is a property of the statement, the same on every database: a DROP TABLE is high on a
fresh database too (its live row count says it loses nothing there). The one exception is an
object the same migration creates: nothing can be in it from before, so a change to it is low.

The warning comments a migration tool writes above a generated migration (`/* Warnings: ... */`)
refine what the SQL alone cannot say (the old type of a column, the columns a SQLite table
redefinition drops) but nothing depends on them: without them the analysis stays on the cautious side.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faber_db.results import Finding
from faber_db.safety.kinds import DESTRUCTIVE_KINDS, SEVERITY_ORDER, UNPARSED, Severity
from faber_db.safety.statements import Stmt, clip

if TYPE_CHECKING:
    from faber_db.engines import Database

_WARN_DROP_COLUMN = re.compile(r"drop the column `([^`]+)` on the `([^`]+)` table")
_WARN_DROP_TABLE = re.compile(r"drop the `([^`]+)` table")
_WARN_CAST = re.compile(
    r"alter the column `([^`]+)` on the `([^`]+)` table.*?cast from `([^`]+)` to `([^`]+)`", re.S
)
_WARN_REQUIRED = re.compile(r"Made the column `([^`]+)` on table `([^`]+)` required")
_WARN_UNIQUE = re.compile(r"unique constraint covering the columns `[^`]*` on the table `([^`]+)`")


@dataclass
class ToolWarnings:
    """What a generated migration's `/* Warnings: ... */` comment says it loses."""

    dropped_columns: dict[str, set[str]] = field(default_factory=dict)
    dropped_tables: set[str] = field(default_factory=set)
    casts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    made_required: set[tuple[str, str]] = field(default_factory=set)
    unique_added: set[str] = field(default_factory=set)
    present: bool = False

    @classmethod
    def read(cls, comments: Iterable[str]) -> ToolWarnings:
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


@dataclass(frozen=True)
class Origin:
    """Which migration created an object: a replayed (applied) one, or one being analyzed (pending)."""

    migration: str | None  # None: not known (history passed without names)
    pending: bool


# An object is (what, name): ("table", "User"), ("type", "Role"), ("trigger", "t on User") ...
ObjectKey = tuple[str, str]


def describe(key: ObjectKey) -> str:
    """`type "Role"`, `trigger "t" on "Post"` ..."""
    what, name = key
    if what == "trigger" and " on " in name:
        trigger, _, table = name.partition(" on ")
        return f'trigger "{trigger}" on "{table}"'
    return f'{what} "{name}"'


class CountError(Exception):
    """A count that could not run (timeout, error, a function not run before approval).

    `missing`: the table does not exist in the database (yet)."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


# (database, SELECT returning one integer, timeout in seconds) -> the integer, read-only
CountRunner = Callable[["Database", str, float], int]


@dataclass(frozen=True)
class RowCount:
    """How `count_rows` counts what a finding's statement touches, in the analyzer's own SQL.

    `total`: the table's rows, named as the statement names it (schema included). `matching`: the
    rows the statement's own condition selects (a WHERE, a join, a filtered copy); None with
    `why_not` when that cannot be counted before the migration runs (the total is then an upper
    bound). `bound`: set when `matching` itself counts an upper bound, and why.
    """

    total: str
    runner: CountRunner
    matching: str | None = None
    why_not: str | None = None
    bound: str | None = None


class CountedFinding(Finding):
    """A finding the analyzer knows how to count. Deliberately not a dataclass: `count` is not a
    field, so it never reaches the JSON result."""

    count: RowCount


class Analyzer:
    """Replays a history, then reports the findings of each migration analyzed. A subclass reads
    one database's SQL (`_run`)."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}  # what exists before the pending migrations run
        self.unique_indexes: set[str] = set()
        self.origins: dict[ObjectKey, Origin] = {}
        # a table the migrations being analyzed rename -> its name in the database, where it is counted
        self.db_names: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.migration: str | None = None
        self.recording = True
        self.warnings = ToolWarnings()
        # per migration analyzed:
        self.redefined: set[str] = set()  # SQLite tables redefined (copied into a new table)
        self.added_columns: set[tuple[str, str]] = set()  # (table, column)
        # drops and renames that become a redefinition when the migration re-creates the name later
        self.redefinable: list[tuple[Finding, ObjectKey, ObjectKey | None]] = []
        self.replaced: dict[ObjectKey, str] = {}  # renamed away, its old name re-created: -> old name

    # entry points

    def replay(self, sql: str, name: str | None = None) -> None:
        self.recording = False
        self.migration = name
        try:
            self._start_migration()
            self._run(sql)
        finally:
            self.recording = True

    def analyze(self, sql: str, migration: str | None) -> list[Finding]:
        self.findings = []
        self.migration = migration
        self._start_migration()
        self._run(sql)
        return self.findings

    def _start_migration(self) -> None:
        self.redefined = set()
        self.added_columns = set()
        self.redefinable = []
        self.replaced = {}

    def _run(self, sql: str) -> None:
        raise NotImplementedError

    # findings

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
        subject: ObjectKey | None = None,
        count: RowCount | None = None,
    ) -> Finding | None:
        """Record a finding (not while replaying history). `subject`: the object it is about
        (default: its table), for the wording of where that object comes from."""
        if not self.recording:
            return None
        subject = subject or (("table", table) if table is not None else None)
        origin = self.origins.get(subject) if subject is not None else None
        if origin is not None and subject is not None and kind in DESTRUCTIVE_KINDS:
            noun = "table" if subject == ("table", table) else describe(subject)
            if self.created_here(subject):
                if SEVERITY_ORDER[severity] > SEVERITY_ORDER["low"]:
                    severity = "low"
                message += f" (the {noun} is created by this same migration: nothing in it is from before)"
            elif origin.pending:
                message += f" (the {noun} is created by {origin.migration or 'a migration'}, earlier in this plan)"
            elif origin.migration is not None:
                message += f" (the {noun} was created by {origin.migration})"
        fields = (clip(statement), line, kind, severity, table, None, self.migration, message, None, column)
        finding: Finding
        if count is None:
            finding = Finding(*fields)
        else:
            counted = CountedFinding(*fields)
            counted.count = count
            finding = counted
        self.findings.append(finding)
        return finding

    def unparsed(self, stmt: Stmt, why: str | None) -> None:
        self.add(UNPARSED, "medium", stmt.line, stmt.text, None,
                 f"The statement could not be analyzed ({why or 'parse error'}); review it by hand")

    def may_be_redefined(self, finding: Finding | None, key: ObjectKey, renamed_to: ObjectKey | None = None,
                         ) -> None:
        """`finding` (a drop or a rename of `key`) is a redefinition if this migration creates `key`
        again later (DROP VIEW v; CREATE VIEW v ...; a generated enum swap renames the type away and
        gives its name to a new one)."""
        if finding is not None and SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER["low"]:
            self.redefinable.append((finding, key, renamed_to))

    # objects

    def created_here(self, key: ObjectKey) -> bool:
        """Created by the migration being analyzed (so nothing in it predates the migration)."""
        origin = self.origins.get(key)
        return origin is not None and origin.pending == self.recording and origin.migration == self.migration

    def note_created(self, key: ObjectKey) -> None:
        self.origins[key] = Origin(self.migration, pending=self.recording)
        self._name_taken(key)

    def _name_taken(self, key: ObjectKey) -> None:
        for finding, redefined, renamed_to in [r for r in self.redefinable if r[1] == key]:
            self.redefinable.remove((finding, redefined, renamed_to))
            finding.severity = "low"
            if renamed_to is None:
                finding.message += " (this same migration creates it again under the same name: a redefinition)"
            else:
                finding.message += (f' (this same migration gives the name "{key[1]}" to a new {key[0]}: '
                                    "code using the name keeps working)")
                self.replaced[renamed_to] = key[1]

    def note_dropped(self, key: ObjectKey) -> None:
        self.origins.pop(key, None)

    def note_renamed(self, old: ObjectKey, new: ObjectKey) -> None:
        """The object keeps what it holds and where it comes from under its new name."""
        origin = self.origins.pop(old, None)
        if origin is not None:
            self.origins[new] = origin
        else:
            self.origins.pop(new, None)
        self._name_taken(new)

    # tables

    def table(self, name: str) -> Table:
        return self.tables.setdefault(name, Table(known=False))

    def create_table(self, name: str, columns: dict[str, Column]) -> None:
        self.tables[name] = Table(columns)
        self.note_created(("table", name))

    def drop_table(self, name: str) -> None:
        self.tables.pop(name, None)
        self.note_dropped(("table", name))
        self.db_names.pop(name, None)

    def rename_table(self, old: str, new: str) -> None:
        self.tables[new] = self.tables.pop(old, Table(known=False))
        self.note_renamed(("table", old), ("table", new))
        if self.recording:
            self.db_names[new] = self.db_names.pop(old, old)

    def db_name(self, table: str) -> str:
        """The name `table` has in the database now (before the migrations analyzed run)."""
        return self.db_names.get(table, table)

    def add_column(self, table: str, name: str, column: Column) -> None:
        known = self.table(table)
        if known.known:
            known.columns[name] = column
        self.added_columns.add((table, name))

    def overwrites_nothing(self, table: str, columns: Iterable[str]) -> bool:
        """Every column is added by the migration being analyzed: an UPDATE of them overwrites
        no value that existed before it, and no code can rely on them yet. (Filling NULLs of an
        existing column is not exempt: a NULL can mean something, "not archived", "not deleted".)"""
        targets = list(columns)
        return bool(targets) and all((table, column) in self.added_columns for column in targets)
