"""Live row counts for findings: how many rows each risky statement touches in the database now.

A DELETE or UPDATE with a WHERE is counted with its own WHERE (`SELECT count(*) FROM <table>
WHERE <that WHERE>`); other findings with the table's rows. Every count is read-only and bounded:
PostgreSQL runs it in `BEGIN READ ONLY` under `SET LOCAL statement_timeout` and `lock_timeout`,
and only when every function it calls is a built-in without side effects (the WHERE comes from a
migration nobody approved yet: `pg_terminate_backend()` or a user function must not run at preview
time); SQLite runs it in a read transaction under `PRAGMA query_only`, stopped at the timeout by a
progress handler. A count that cannot run falls back to the table's rows as an upper bound, and the
finding's message says so.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from faber_db.engines import Database
from faber_db.errors import FaberError
from faber_db.results import Finding
from faber_db.safety.kinds import DESTRUCTIVE_KINDS
from faber_db.safety.model import CountedFinding, CountError, CountRunner

COUNT_TIMEOUT_SECONDS = 10.0  # one count
COUNT_BUDGET_SECONDS = 60.0  # all counts of one plan together
_LOCK_TIMEOUT_MS = 2000


def count_rows(findings: list[Finding], db: Database, *, timeout_seconds: float = COUNT_TIMEOUT_SECONDS,
               budget_seconds: float = COUNT_BUDGET_SECONDS) -> None:
    """Fill `rows` of each finding on a table with a live count from `db` (None: the table does not
    exist there, or could not be counted; the message then says which). Each query runs once."""
    counter = _Counter(db, timeout_seconds, budget_seconds)
    for finding in findings:
        if finding.table is None:
            continue
        if isinstance(finding, CountedFinding):
            counter.fill(finding)
        else:
            finding.rows = counter.table_rows(finding.table)


class _Counter:
    def __init__(self, db: Database, timeout: float, budget: float) -> None:
        self.db = db
        self.timeout = timeout
        self.budget = budget
        self.deadline = time.monotonic() + budget
        self.results: dict[str, int | CountError] = {}
        self.plain: dict[str, int | None] = {}

    def run(self, runner: CountRunner, sql: str) -> int:
        if sql not in self.results:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.results[sql] = CountError(f"the {self.budget:g} s faber-db spends on counting rows were used up")
            else:
                try:
                    self.results[sql] = runner(self.db, sql, min(self.timeout, remaining))
                except CountError as error:
                    self.results[sql] = error
        result = self.results[sql]
        if isinstance(result, CountError):
            raise result
        return result

    def fill(self, finding: CountedFinding) -> None:
        count = finding.count
        reason = count.why_not
        if count.matching is not None:
            try:
                finding.rows = self.run(count.runner, count.matching)
            except CountError as error:
                reason = error.reason
            else:
                if count.bound:
                    finding.message += f" (rows is an upper bound: {count.bound})"
                return
        try:
            finding.rows = self.run(count.runner, count.total)
        except CountError as error:
            finding.rows = None
            if error.missing:
                if finding.kind in DESTRUCTIVE_KINDS:
                    finding.message += f' ("{finding.table}" does not exist in this database yet: no rows to lose here)'
            else:
                finding.message += f" (not counted: {reason or error.reason})"
            return
        if reason is not None:
            finding.message += f" (not counted exactly: {reason}; rows is the table's total, an upper bound)"

    def table_rows(self, table: str) -> int | None:
        if table not in self.plain:
            try:
                self.plain[table] = self.db.row_count(table) if self.db.table_exists(table) else None
            except FaberError:
                self.plain[table] = None
        return self.plain[table]


# --- PostgreSQL ----------------------------------------------------------------------------------

# Volatile built-ins that only compute a value: a WHERE may call them at preview time.
_HARMLESS_VOLATILE = frozenset({"random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuidv4", "uuidv7"})
# The functions a name may resolve to, on this connection's search path, that are not side-effect
# free built-ins (pg_catalog's immutable and stable functions are, by PostgreSQL's own contract).
_UNSAFE_FUNCTIONS = (
    "SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc p "
    "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "WHERE p.proname::text = ANY(CAST(? AS text[])) AND n.nspname = ANY(pg_catalog.current_schemas(true)) "
    "AND (n.nspname <> 'pg_catalog' OR p.provolatile = 'v') ORDER BY 1"
)


def postgres_count(db: Database, sql: str, timeout: float) -> int:
    """Run `sql` (one integer) read-only, under a statement and a lock timeout."""
    names, foreign = _called_functions(sql)
    if foreign:
        raise CountError(f"it calls {foreign[0]}(), which faber-db does not run before approval")
    if not _query(db, "SELECT pg_catalog.transaction_timestamp() = pg_catalog.statement_timestamp()")[0][0]:
        raise CountError("the connection is inside a transaction")  # our ROLLBACK must not end someone's
    _execute(db, "BEGIN READ ONLY")
    try:
        _execute(db, f"SET LOCAL statement_timeout = {max(int(timeout * 1000), 1)}")
        _execute(db, f"SET LOCAL lock_timeout = {min(_LOCK_TIMEOUT_MS, max(int(timeout * 1000), 1))}")
        if names:
            unsafe = [str(row[0]) for row in _query(db, _UNSAFE_FUNCTIONS, [sorted(names)])
                      if row[0] not in _HARMLESS_VOLATILE]
            if unsafe:
                raise CountError(f"it calls {unsafe[0]}(), which faber-db does not run before approval")
        return int(_query(db, sql, timeout=timeout)[0][0])
    finally:
        try:
            db.execute("ROLLBACK")
        except FaberError:
            pass


def _called_functions(sql: str) -> tuple[set[str], list[str]]:
    """(unqualified function names, names qualified with a schema other than pg_catalog)."""
    import pglast
    from pglast import ast

    from faber_db.safety.postgres_nodes import walk_nodes

    names: set[str] = set()
    foreign: list[str] = []
    for node in walk_nodes(tuple(raw.stmt for raw in pglast.parse_sql(sql))):
        if isinstance(node, ast.FuncCall):
            parts = [getattr(part, "sval", "") for part in node.funcname or ()]
            if len(parts) > 1 and parts[0] != "pg_catalog":
                foreign.append(".".join(parts))
            elif parts:
                names.add(parts[-1])
    return names, foreign


def _query(db: Database, sql: str, params: list[Any] | None = None, timeout: float = 0.0) -> list[tuple[Any, ...]]:
    try:
        return db.query(sql, params or ())
    except FaberError as error:
        raise _count_error(error.message, timeout) from None


def _execute(db: Database, sql: str) -> None:
    _query(db, sql)


def _count_error(message: str, timeout: float) -> CountError:
    detail = message.split(": ", 1)[-1].strip()  # without the "<database label>: " prefix
    lowered = detail.lower()
    if "statement timeout" in lowered or "interrupted" in lowered:
        return CountError(f"counting took longer than {timeout:g} s")
    if "lock timeout" in lowered:
        return CountError("the table is locked by another session")
    missing = ("does not exist" in lowered and "relation" in lowered) or "no such table" in lowered
    return CountError(f"the query cannot run before the migration ({detail})", missing=missing)


# --- SQLite --------------------------------------------------------------------------------------


def sqlite_count(db: Database, sql: str, timeout: float) -> int:
    """Run `sql` (one integer) in a read transaction with `PRAGMA query_only`, stopped at `timeout`."""
    connection = getattr(db, "connection", None)
    previous = int(_query(db, "PRAGMA query_only")[0][0])
    _execute(db, "PRAGMA query_only = ON")
    try:
        _execute(db, "BEGIN")  # fails inside someone's transaction: never ROLLBACK that one
        try:
            if isinstance(connection, sqlite3.Connection):
                deadline = time.monotonic() + timeout
                connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            return int(_query(db, sql, timeout=timeout)[0][0])
        finally:
            if isinstance(connection, sqlite3.Connection):
                connection.set_progress_handler(None, 0)
            _execute(db, "ROLLBACK")
    finally:
        _execute(db, f"PRAGMA query_only = {previous}")
