"""Destructive-change analysis and lock-risk lint of migration SQL.

The SQL is read by real parsers, never by regular expressions: pglast (PostgreSQL's own parser,
libpg_query) for `postgresql`, sqlglot (dialect `sqlite`) for `sqlite`. Each risky statement
becomes a `Finding` whose `kind` is a key of `SafetyConfig.destructive` (plus `unparsed` for a
statement no parser understood: it is never silently treated as safe, and `lock_risk` for the
PostgreSQL lock lint). `evaluate()` applies the configured rules; `count_rows()` adds live counts.

Prisma's warning comments (`/* Warnings: ... */`) refine what the SQL alone cannot say (the old
type of a column, the columns a SQLite table redefinition drops) but nothing depends on them:
without them the analysis stays on the cautious side. Earlier migrations can be passed as
`history` so the analysis knows the columns and types of existing tables.

pglast and sqlglot are imported inside functions: `faber-db status` must not pay for them.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faber_db.config import DestructiveRule
from faber_db.engines import Database
from faber_db.errors import FaberError
from faber_db.results import Finding

Severity = Literal["info", "low", "medium", "high", "critical"]

DESTRUCTIVE_KINDS = (
    "drop_database",
    "drop_schema",
    "drop_table",
    "truncate",
    "delete_without_where",
    "update_without_where",
    "drop_column",
    "alter_column_type",
    "set_not_null",
    "add_unique",
    "rename",
)
UNPARSED = "unparsed"
LOCK_RISK = "lock_risk"
MAX_STATEMENT_CHARS = 500

_SEVERITY_ORDER: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
# Findings at or above this severity need approval; "low" ones (a widening type change, a change
# to a table created in the same migration, a redefinition that provably keeps every column) are
# shown but do not stop a deploy.
_APPROVAL_SEVERITY = _SEVERITY_ORDER["medium"]


# --- the public API ----------------------------------------------------------------------------


def data_loss_message(table: str, column: str | None = None) -> str:
    """The finding message for dropping a table (column None) or one column of it."""
    if column is None:
        return f'Drops table "{table}" and all its rows'
    return f'Drops column "{column}" of "{table}" and its data'


def preload(provider: str) -> None:
    """Import the parser for `provider` now (generate-migration does it while Prisma's reverse diff
    runs, so the import does not follow it)."""
    if provider == "postgresql":
        import pglast  # noqa: F401
    else:
        import sqlglot.dialects.sqlite  # noqa: F401


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_FK_ACTIONS = re.compile(r"\bON\s+(DELETE|UPDATE)\s+(CASCADE|RESTRICT|NO\s+ACTION|SET\s+NULL|SET\s+DEFAULT)\b", re.I)
_RISKY_WORD = re.compile(r"\b(DROP|ALTER|TRUNCATE|DELETE|UPDATE|RENAME|UNIQUE|REPLACE|MERGE|EXECUTE)\b|\$\$", re.I)
_ADDITIVE_START = re.compile(
    r"\s*(CREATE\s+(TABLE|INDEX|TYPE|SEQUENCE|EXTENSION|SCHEMA)\b|COMMENT\s+ON\b|BEGIN\b|COMMIT\b)", re.I)


def _creates_only_new_objects(sql: str) -> bool:
    return plainly_additive(sql) and not re.search(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b", _COMMENTS.sub(" ", sql), re.I)


def plainly_additive(sql: str) -> bool:
    """True only for a script every statement of which creates something new (tables, plain
    indexes, types...) and that names nothing risky: such a file cannot lose data, so the parser
    (and its ~0.1 s import) is not needed. Anything else, unknown text included, is parsed."""
    text = _FK_ACTIONS.sub(" ", _COMMENTS.sub(" ", sql))
    if _RISKY_WORD.search(text):
        return False
    return all(_ADDITIVE_START.match(part) for part in text.split(";") if part.strip())


def analyze_sql(
    sql: str, provider: str, *, migration: str | None = None, history: Sequence[str] = ()
) -> list[Finding]:
    """One Finding per risky statement of one migration file, in file order.

    `history`: the SQL of earlier (already applied) migrations, oldest first. It is replayed to
    learn the existing tables' columns, types and indexes; its own statements are not reported.
    """
    if plainly_additive(sql):
        return []
    analyzer = _Analyzer(provider)
    for earlier in history:
        analyzer.replay(earlier)
    return analyzer.analyze(sql, migration)


def analyze_migrations(
    migrations: Sequence[tuple[str, str]], provider: str, *, history: Sequence[str] = ()
) -> list[Finding]:
    """Findings for several pending migrations `(name, sql)` in apply order.

    Tables created by an earlier pending migration do not exist yet, so changes to them are low risk.
    """
    if all(plainly_additive(sql) for _, sql in migrations):
        return []
    analyzer = _Analyzer(provider)
    for earlier in history:
        analyzer.replay(earlier)
    findings: list[Finding] = []
    for name, sql in migrations:
        findings.extend(analyzer.analyze(sql, name))
    return findings


def count_rows(findings: list[Finding], db: Database) -> None:
    """Fill `rows` with the live row count of each finding's table (None: the table does not exist).

    Each table is counted once, however many findings touch it.
    """
    counts: dict[str, int | None] = {}
    for finding in findings:
        if finding.table is None:
            continue
        if finding.table not in counts:
            counts[finding.table] = _count_one(db, finding.table)
        finding.rows = counts[finding.table]


def _count_one(db: Database, table: str) -> int | None:
    try:
        if not db.table_exists(table):
            return None
        return db.row_count(table)
    except FaberError:
        return None


@dataclass
class RuleDecision:
    """What the configured destructive-operation rules say about a set of findings."""

    blocked: list[Finding] = field(default_factory=list)
    needs_approval: list[Finding] = field(default_factory=list)
    approval_level: Literal["standard", "enhanced"] = "standard"
    requires_backup: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def destructive(self) -> bool:
        return bool(self.blocked or self.needs_approval)

    @property
    def allowed(self) -> bool:
        return not self.blocked


def is_destructive(finding: Finding) -> bool:
    """A finding that needs approval: a destructive kind (or an unparsed statement) at medium or above."""
    if finding.kind not in DESTRUCTIVE_KINDS and finding.kind != UNPARSED:
        return False
    return _SEVERITY_ORDER.get(finding.severity, 0) >= _APPROVAL_SEVERITY


def evaluate(findings: Iterable[Finding], rules: dict[str, DestructiveRule]) -> RuleDecision:
    """Apply the destructive-operation rules (config `safety.destructive`) to the findings.

    A kind the rules do not name (for example `unparsed`) gets the default rule: allowed with
    standard approval and a backup. Lock-risk findings and low-severity findings are not destructive.
    """
    decision = RuleDecision()
    default = DestructiveRule()
    for finding in findings:
        if not is_destructive(finding):
            continue
        rule = rules.get(finding.kind, default)
        where = _where(finding)
        if not rule.allowed:
            decision.blocked.append(finding)
            decision.reasons.append(
                f"{finding.kind} is not allowed{where}: {rule.block_reason or 'blocked by the safety rules'}"
            )
            continue
        decision.needs_approval.append(finding)
        if rule.approval == "enhanced":
            decision.approval_level = "enhanced"
        if rule.require_backup:
            decision.requires_backup = True
        reason = f"{finding.kind}{where} needs {rule.approval} approval"
        if rule.row_threshold is not None and finding.rows is not None and finding.rows < rule.row_threshold:
            reason += (
                f" (still destructive: {finding.rows} row{'s' if finding.rows != 1 else ''}, "
                f"below the row threshold of {rule.row_threshold})"
            )
        elif finding.rows is not None:
            reason += f" ({finding.rows} row{'s' if finding.rows != 1 else ''})"
        decision.reasons.append(reason)
    return decision


def _where(finding: Finding) -> str:
    parts = []
    if finding.table:
        parts.append(f'on "{finding.table}"')
    if finding.migration:
        parts.append(f"in {finding.migration}")
    parts.append(f"line {finding.line}")
    return " " + " ".join(parts)


# --- PostgreSQL lock-risk lint -----------------------------------------------------------------

# squawk rules that are about style or rerunnability, or that duplicate the destructive analysis
# (drops, renames): not reported as lock risks.
_SQUAWK_IGNORED = frozenset(
    {
        "syntax-error",
        "prefer-robust-stmts",
        "prefer-bigint-over-int",
        "prefer-bigint-over-smallint",
        "prefer-identity",
        "prefer-timestamp-tz",
        "prefer-text-field",
        "ban-char-field",
        "ban-drop-column",
        "ban-drop-table",
        "ban-drop-database",
        "ban-drop-schema",
        "ban-truncate-cascade",
        "renaming-column",
        "renaming-table",
        "renaming-object",
        "ban-drop-constraint",
        "ban-drop-default",
        "ban-drop-not-null",
        "ban-drop-type",
        "transaction-nesting",  # Prisma's own enum migrations wrap themselves in BEGIN/COMMIT
        "require-enum-value-ordering",
        "require-table-schema",
    }
)
# Rules whose statement blocks writes (or reads and writes) while it scans or rewrites a table.
_SQUAWK_MEDIUM = frozenset(
    {
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "adding-foreign-key-constraint",
        "constraint-missing-not-valid",
        "changing-column-type",
        "adding-field-with-default",
        "adding-not-nullable-field",
        "adding-required-field",
        "adding-serial-primary-key-field",
        "disallowed-unique-constraint",
        "ban-concurrent-index-creation-in-transaction",
        "ban-alter-domain-with-add-constraint",
    }
)
SQUAWK_TIMEOUT_SECONDS = 15.0


def squawk_path() -> str | None:
    """The squawk binary: beside this Python (the plugin's venv) first, then on PATH."""
    beside = Path(sys.executable).parent / ("squawk.exe" if os.name == "nt" else "squawk")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("squawk")


def lint_locks(
    sql: str, *, migration: str | None = None, use_squawk: bool = True, pg_version: str | None = None
) -> list[Finding]:
    """PostgreSQL lock-risk lint: squawk's rules (ids in `Finding.rule`), kind `lock_risk`.

    Without squawk (or with `use_squawk=False`) the same rules are checked with pglast:
    require-concurrent-index-creation, changing-column-type, adding-field-with-default,
    adding-foreign-key-constraint and require-lock-timeout.
    """
    statements = _split_postgres(sql)
    binary = squawk_path() if use_squawk else None
    if binary is not None:
        # squawk stops at a syntax error; statements PostgreSQL's parser rejects are blanked out
        # (same lines and columns) so the rest is still linted. analyze_sql reports them as unparsed.
        raw = _run_squawk(binary, _mask_unparsed(sql, statements), pg_version)
        if raw is not None and not any(item.get("rule_name") == "syntax-error" for item in raw):
            return _squawk_findings(raw, sql, statements, migration)
    return _fallback_lint(statements, sql, migration)


def lint_locks_many(migrations: Sequence[tuple[str, str]], *, pg_version: str | None = None) -> list[Finding]:
    """`lint_locks` for several migrations `(name, sql)` with ONE squawk run (one process start,
    not one per file: 50 pending migrations cost ~10 ms, not ~400 ms)."""
    # New tables, types and sequences lock nothing that exists: only the rest is linted.
    migrations = [(name, sql) for name, sql in migrations if not _creates_only_new_objects(sql)]
    if not migrations:
        return []
    binary = squawk_path()
    if binary is None or len(migrations) < 2:
        return [f for name, sql in migrations for f in lint_locks(sql, migration=name, pg_version=pg_version)]
    parsed = [(name, sql, _split_postgres(sql)) for name, sql in migrations]
    with tempfile.TemporaryDirectory(prefix="faber-db-squawk-") as tmp:
        paths = []
        for index, (_name, sql, statements) in enumerate(parsed):
            path = Path(tmp) / f"{index:06d}.sql"
            path.write_text(_mask_unparsed(sql, statements), encoding="utf-8")
            paths.append(path)
        raw = _run_squawk_files(binary, paths, pg_version, cwd=tmp)
    if raw is None:
        return [f for name, sql, _ in parsed for f in lint_locks(sql, migration=name, use_squawk=False)]
    by_file: dict[str, list[dict[str, Any]]] = {}
    for item in raw:
        by_file.setdefault(Path(str(item.get("file", ""))).name, []).append(item)
    findings: list[Finding] = []
    for path, (name, sql, statements) in zip(paths, parsed, strict=True):
        items = by_file.get(path.name, [])
        if any(item.get("rule_name") == "syntax-error" for item in items):
            findings += _fallback_lint(statements, sql, name)
        else:
            findings += _squawk_findings(items, sql, statements, name)
    return findings


def _mask_unparsed(sql: str, statements: list[_Stmt]) -> str:
    pieces: list[str] = []
    last = 0
    for stmt in statements:
        if stmt.node is None:
            end = stmt.end + 1 if sql[stmt.end : stmt.end + 1] == ";" else stmt.end
            pieces.append(sql[last : stmt.start])
            pieces.append(re.sub(r"[^\n]", " ", sql[stmt.start : end]))
            last = end
    pieces.append(sql[last:])
    return "".join(pieces)


def _run_squawk(binary: str, sql: str, pg_version: str | None) -> list[dict[str, Any]] | None:
    """squawk's JSON report for the SQL, or None when it cannot run (the caller falls back)."""
    with tempfile.TemporaryDirectory(prefix="faber-db-squawk-") as tmp:
        path = Path(tmp) / "migration.sql"
        path.write_text(sql, encoding="utf-8")
        return _run_squawk_files(binary, [path], pg_version, cwd=tmp)


def _run_squawk_files(binary: str, paths: list[Path], pg_version: str | None, *, cwd: str
                      ) -> list[dict[str, Any]] | None:
    # Prisma sends a migration file as one multi-statement query: one implicit transaction.
    argv = [binary, "--reporter", "json", "--assume-in-transaction"]
    if pg_version:
        argv.append(f"--pg-version={pg_version}")
    argv += [str(p) for p in paths]
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=SQUAWK_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # squawk exits 1 when it has something to report; anything else but JSON means it failed.
    try:
        data = json.loads(proc.stdout or "[]")
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    return [item for item in data if isinstance(item, dict)]


def _squawk_findings(
    raw: list[dict[str, Any]], sql: str, statements: list[_Stmt], migration: str | None
) -> list[Finding]:
    lines = _LineIndex(sql)
    findings: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    for item in raw:
        rule = str(item.get("rule_name") or "")
        if not rule or rule in _SQUAWK_IGNORED:
            continue
        line0 = int(item.get("line") or 0)  # squawk's lines and columns are 0-based
        offset = lines.offset(line0, int(item.get("column") or 0))
        stmt = _statement_at(statements, offset)
        line = stmt.line if stmt is not None else line0 + 1
        if (rule, line) in seen:
            continue
        seen.add((rule, line))
        message = str(item.get("message") or rule)
        hint = item.get("help")
        if hint:
            message += f" {hint}"
        findings.append(
            Finding(
                statement=_clip(stmt.text) if stmt is not None else "",
                line=line,
                kind=LOCK_RISK,
                severity="medium" if rule in _SQUAWK_MEDIUM else "low",
                table=_pg_statement_table(stmt.node) if stmt is not None else None,
                migration=migration,
                message=message,
                rule=rule,
            )
        )
    return findings


_STABLE_DEFAULT_FUNCS = frozenset({"now", "current_timestamp", "transaction_timestamp", "current_date"})


def _fallback_lint(statements: list[_Stmt], sql: str, migration: str | None) -> list[Finding]:
    from pglast import ast, enums

    created: set[str] = set()
    findings: list[Finding] = []
    lock_timeout_set = False
    timeout_reported = False

    def add(stmt: _Stmt, rule: str, severity: Severity, table: str | None, message: str) -> None:
        findings.append(
            Finding(_clip(stmt.text), stmt.line, LOCK_RISK, severity, table, None, migration, message, rule)
        )

    for stmt in statements:
        node = stmt.node
        if node is None:
            continue
        risky = False
        if isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "lock_timeout":
            lock_timeout_set = True
        elif isinstance(node, ast.CreateStmt):
            created.add(_relname(node.relation))
        elif isinstance(node, ast.IndexStmt):
            table = _relname(node.relation)
            if table not in created:
                risky = True
                if not node.concurrent:
                    add(stmt, "require-concurrent-index-creation", "medium", table,
                        "Creating an index without CONCURRENTLY blocks writes to the table while it builds.")
        elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
            table = _relname(node.relation)
            if table not in created:
                risky = True
                cmds: tuple[Any, ...] = node.cmds or ()
                for cmd in cmds:
                    if not isinstance(cmd, ast.AlterTableCmd):
                        continue
                    if cmd.subtype == enums.AlterTableType.AT_AlterColumnType:
                        add(stmt, "changing-column-type", "medium", table,
                            "Changing a column type takes an ACCESS EXCLUSIVE lock and may rewrite the table.")
                    elif cmd.subtype == enums.AlterTableType.AT_AddColumn and _volatile_default(cmd.def_):
                        add(stmt, "adding-field-with-default", "medium", table,
                            "Adding a column with a volatile default rewrites the table under an "
                            "ACCESS EXCLUSIVE lock.")
                    elif cmd.subtype == enums.AlterTableType.AT_AddConstraint and _validating_fk(cmd.def_):
                        add(stmt, "adding-foreign-key-constraint", "medium", table,
                            "Adding a foreign key scans the table under a SHARE ROW EXCLUSIVE lock on both "
                            "tables; add it NOT VALID and VALIDATE it separately.")
        if risky and not lock_timeout_set and not timeout_reported:
            timeout_reported = True
            add(stmt, "require-lock-timeout", "low", _pg_statement_table(node),
                "No `SET lock_timeout` before a statement that takes a strong lock on an existing table.")
    findings.sort(key=lambda f: f.line)
    return findings


def _volatile_default(column: Any) -> bool:
    from pglast import ast, enums

    if not isinstance(column, ast.ColumnDef):
        return False
    for constraint in column.constraints or ():
        if not isinstance(constraint, ast.Constraint):
            continue
        if constraint.contype in (enums.ConstrType.CONSTR_GENERATED, enums.ConstrType.CONSTR_IDENTITY):
            return True
        if constraint.contype == enums.ConstrType.CONSTR_DEFAULT:
            for func in _walk_nodes(constraint.raw_expr):
                if isinstance(func, ast.FuncCall):
                    name = _last_name(func.funcname).lower()
                    if name not in _STABLE_DEFAULT_FUNCS:
                        return True
    names = column.typeName.names if column.typeName is not None else ()
    return _last_name(names).lower() in ("serial", "bigserial", "smallserial")


def _validating_fk(constraint: Any) -> bool:
    from pglast import ast, enums

    return (
        isinstance(constraint, ast.Constraint)
        and constraint.contype == enums.ConstrType.CONSTR_FOREIGN
        and not constraint.skip_validation
    )


def _walk_nodes(node: Any) -> Iterator[Any]:
    from pglast import ast

    if node is None:
        return
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk_nodes(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for name in node:
        yield from _walk_nodes(getattr(node, name))


# --- statements and lines ----------------------------------------------------------------------


@dataclass
class _Stmt:
    text: str
    start: int  # character offsets into the file
    end: int
    line: int  # 1-based line of the first token
    node: Any = None  # the parsed statement (pglast node or sqlglot expression); None: not parsed
    error: str | None = None


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def offset(self, line0: int, column: int) -> int:
        line0 = min(max(line0, 0), len(self.starts) - 1)
        return self.starts[line0] + max(column, 0)


def _statement_at(statements: list[_Stmt], offset: int) -> _Stmt | None:
    best: _Stmt | None = None
    for stmt in statements:
        if stmt.start <= offset:
            best = stmt
        else:
            break
    return best


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_STATEMENT_CHARS else text[: MAX_STATEMENT_CHARS - 1] + "…"


def _split_postgres(sql: str) -> list[_Stmt]:
    """Statements with their positions; one that does not parse keeps node None and an error."""
    from pglast import parse_sql, parser

    lines = _LineIndex(sql)
    try:
        tokens = [t for t in parser.scan(sql) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except parser.ParseError as exc:  # an unterminated string or comment: nothing can be split
        text = sql.strip()
        start = len(sql) - len(sql.lstrip())
        return [_Stmt(text, start, len(sql), lines.line(start), None, str(exc))] if text else []
    starts = [t.start for t in tokens]

    def first_token_at(offset: int) -> int:
        index = bisect.bisect_left(starts, offset)
        return starts[index] if index < len(starts) else offset

    statements: list[_Stmt] = []
    try:
        raw = parse_sql(sql)
    except parser.ParseError:
        raw = None
    if raw is not None:
        for item in raw:
            location = item.stmt_location or 0
            begin = first_token_at(location)
            stop = location + item.stmt_len if item.stmt_len else len(sql)
            text = sql[begin:stop].strip()
            statements.append(_Stmt(text, begin, stop, lines.line(begin), item.stmt))
        return statements
    # Some statement does not parse: split on the scanner's semicolons and parse each piece alone.
    chunk: list[Any] = []
    for token in [*tokens, None]:
        if token is not None and token.name != "ASCII_59":
            chunk.append(token)
            continue
        if chunk:
            begin, stop = chunk[0].start, chunk[-1].end + 1
            text = sql[begin:stop]
            try:
                parsed = parse_sql(text)
                node = parsed[0].stmt if len(parsed) == 1 else None
                error = None if node is not None else "not a single statement"
            except parser.ParseError as exc:
                node, error = None, str(exc)
            statements.append(_Stmt(text.strip(), begin, stop, lines.line(begin), node, error))
        chunk = []
    return statements


_SQLITE_HARMLESS_COMMANDS = frozenset(
    {"PRAGMA", "VACUUM", "ANALYZE", "REINDEX", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}
)


def _split_sqlite(sql: str, dialect: str) -> list[_Stmt]:
    import logging

    import sqlglot
    from sqlglot import TokenType
    from sqlglot.errors import ParseError, TokenError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" chatter
    lines = _LineIndex(sql)
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except TokenError as exc:
        text = sql.strip()
        start = len(sql) - len(sql.lstrip())
        return [_Stmt(text, start, len(sql), lines.line(start), None, str(exc))] if text else []

    chunks: list[list[Any]] = []
    current: list[Any] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current and _is_open_trigger(current):
                current.append(token)  # a trigger body's own `;`: keep reading up to END
                continue
            if current:
                chunks.append(current)
            current = []
        else:
            current.append(token)
    if current:
        chunks.append(current)

    statements: list[_Stmt] = []
    for chunk in chunks:
        begin, stop = chunk[0].start, chunk[-1].end + 1
        text = sql[begin:stop]
        stmt = _Stmt(text.strip(), begin, stop, lines.line(begin))
        first = chunk[0].text.upper()
        if _is_trigger(chunk):
            stmt.node = "trigger"  # a trigger body does not run at migration time
        elif first in _SQLITE_HARMLESS_COMMANDS:
            stmt.node = first.lower()  # PRAGMA, VACUUM, SAVEPOINT ...: no data is changed
        else:
            try:
                stmt.node = sqlglot.parse_one(text, read=dialect)
            except (ParseError, TokenError) as exc:
                stmt.error = str(exc).splitlines()[0] if str(exc) else "cannot be parsed"
            else:
                from sqlglot import exp

                if isinstance(stmt.node, exp.Command):
                    keyword = str(stmt.node.this or "").upper()
                    stmt.node, stmt.error = None, f"sqlglot cannot parse this {keyword or 'statement'}"
                elif not isinstance(stmt.node, _sqlite_statement_types()):
                    # sqlglot reads a bare expression ("this is not sql") without complaint
                    stmt.node, stmt.error = None, f"not a statement (read as {type(stmt.node).__name__})"
        statements.append(stmt)
    return statements


def _sqlite_statement_types() -> tuple[type[Any], ...]:
    from sqlglot import exp

    return (
        exp.Create, exp.Drop, exp.Alter, exp.Insert, exp.Update, exp.Delete, exp.Query, exp.Pragma,
        exp.Transaction, exp.Commit, exp.Rollback, exp.TruncateTable, exp.Analyze, exp.Attach, exp.Detach,
    )


def _is_trigger(chunk: list[Any]) -> bool:
    words = [t.text.upper() for t in chunk[:4]]
    return len(words) >= 2 and words[0] == "CREATE" and "TRIGGER" in words[1:4]


def _is_open_trigger(chunk: list[Any]) -> bool:
    return _is_trigger(chunk) and chunk[-1].text.upper() != "END"


# --- Prisma's warning comments -----------------------------------------------------------------

_WARN_DROP_COLUMN = re.compile(r"drop the column `([^`]+)` on the `([^`]+)` table")
_WARN_DROP_TABLE = re.compile(r"drop the `([^`]+)` table")
_WARN_CAST = re.compile(
    r"alter the column `([^`]+)` on the `([^`]+)` table.*?cast from `([^`]+)` to `([^`]+)`", re.S
)
_WARN_REQUIRED = re.compile(r"Made the column `([^`]+)` on table `([^`]+)` required")
_WARN_UNIQUE = re.compile(r"unique constraint covering the columns `[^`]*` on the table `([^`]+)`")


@dataclass
class _PrismaWarnings:
    dropped_columns: dict[str, set[str]] = field(default_factory=dict)
    dropped_tables: set[str] = field(default_factory=set)
    casts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    made_required: set[tuple[str, str]] = field(default_factory=set)
    unique_added: set[str] = field(default_factory=set)
    present: bool = False

    @classmethod
    def read(cls, comments: Iterable[str]) -> _PrismaWarnings:
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


def _postgres_comments(sql: str) -> list[str]:
    from pglast import parser

    try:
        return [c.str for c in parser.comments(sql)]
    except parser.ParseError:
        return []


def _sqlite_comments(sql: str, dialect: str) -> list[str]:
    import sqlglot
    from sqlglot.errors import TokenError

    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    except TokenError:
        return []
    return [comment for token in tokens for comment in (token.comments or [])]


# --- column types ------------------------------------------------------------------------------

_TYPE_ALIASES = {
    "int": "int4", "integer": "int4", "int4": "int4", "serial": "int4", "serial4": "int4",
    "smallint": "int2", "int2": "int2", "smallserial": "int2", "serial2": "int2",
    "bigint": "int8", "int8": "int8", "bigserial": "int8", "serial8": "int8",
    "varchar": "varchar", "charactervarying": "varchar", "nvarchar": "varchar",
    "char": "bpchar", "character": "bpchar", "bpchar": "bpchar", "nchar": "bpchar",
    "text": "text", "string": "text", "clob": "text",
    "decimal": "numeric", "numeric": "numeric",
    "real": "float4", "float4": "float4",
    "doubleprecision": "float8", "float8": "float8", "double": "float8", "float": "float8",
    "timestamp": "timestamp", "timestampwithouttimezone": "timestamp", "datetime": "timestamp",
    "timestamptz": "timestamptz", "timestampwithtimezone": "timestamptz",
    "time": "time", "timewithouttimezone": "time", "timetz": "timetz", "timewithtimezone": "timetz",
    "bool": "bool", "boolean": "bool",
    "json": "json", "jsonb": "jsonb",
}
_INT_RANK = {"int2": 1, "int4": 2, "int8": 3}
_TEXTUAL = ("varchar", "bpchar", "text")


@dataclass(frozen=True)
class _Type:
    base: str
    mods: tuple[int, ...] = ()
    array: bool = False

    def show(self) -> str:
        mods = f"({','.join(str(m) for m in self.mods)})" if self.mods else ""
        return f"{self.base}{mods}{'[]' if self.array else ''}"


def _parse_type(text: str) -> _Type:
    """`VarChar(100)`, `character varying(100)`, `DECIMAL(65,30)`, `"Role"[]` → a normalized type."""
    raw = text.strip().strip('"').lower()
    array = raw.endswith("[]")
    raw = raw.removesuffix("[]")
    name, _, rest = raw.partition("(")
    mods: list[int] = []
    for part in rest.rstrip(")").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            mods.append(int(part))
    key = re.sub(r"[\s_\"]", "", name)
    return _Type(_TYPE_ALIASES.get(key, key), tuple(mods), array)


def _pg_type_text(type_name: Any) -> str:
    from pglast import ast

    if type_name is None:
        return "unknown"
    name = type_name.names[-1].sval if type_name.names else "unknown"
    mods: list[str] = []
    for mod in type_name.typmods or ():
        if isinstance(mod, ast.A_Const) and mod.val is not None:
            value = getattr(mod.val, "ival", None)
            if value is None:
                value = getattr(mod.val, "sval", None)
            mods.append(str(value))
    text = name + (f"({','.join(mods)})" if mods else "")
    return text + ("[]" if type_name.arrayBounds else "")


def _type_change(old: str | None, new: str, *, using: bool) -> tuple[Severity, str]:
    new_type = _parse_type(new)
    if using:
        return "medium", f"converted to {new_type.show()} with a USING expression (table rewrite; values may fail)"
    if old is None:
        return "medium", (
            f"type changed to {new_type.show()}; the old type is unknown, so it may narrow or rewrite"
        )
    old_type = _parse_type(old)
    change = f"{old_type.show()} → {new_type.show()}"
    if _widens(old_type, new_type):
        return "low", f"type widened ({change}); no data is lost"
    return "medium", f"type changed ({change}): may truncate values, fail the cast or rewrite the table"


def _widens(old: _Type, new: _Type) -> bool:
    if old.array != new.array:
        return False
    if old == new:
        return True
    if old.base in _INT_RANK and new.base in _INT_RANK:
        return _INT_RANK[new.base] >= _INT_RANK[old.base]
    if old.base in _INT_RANK and new.base == "numeric":
        return not new.mods or (new.mods[0] - (new.mods[1] if len(new.mods) > 1 else 0)) >= 19
    if old.base == "float4" and new.base == "float8":
        return True
    if old.base in _TEXTUAL and new.base in _TEXTUAL:
        if new.base == "text" or not new.mods:
            return old.base != "bpchar" or new.base != "bpchar" or not new.mods
        return bool(old.mods) and new.mods[0] >= old.mods[0]
    if old.base == new.base == "numeric":
        if not new.mods:
            return True
        if not old.mods:
            return False
        old_scale = old.mods[1] if len(old.mods) > 1 else 0
        new_scale = new.mods[1] if len(new.mods) > 1 else 0
        return new_scale >= old_scale and new.mods[0] - new_scale >= old.mods[0] - old_scale
    if old.base == new.base and old.base in ("timestamp", "timestamptz", "time", "timetz"):
        old_p = old.mods[0] if old.mods else 6
        new_p = new.mods[0] if new.mods else 6
        return new_p >= old_p
    if old.base == "json" and new.base == "jsonb":
        return False
    return False


# --- the catalog the analysis keeps ------------------------------------------------------------


@dataclass
class _Column:
    type: str | None
    not_null: bool = False
    has_default: bool = False


@dataclass
class _Table:
    columns: dict[str, _Column] = field(default_factory=dict)
    known: bool = True  # False: the table exists but its columns are not known


# --- the analyzer ------------------------------------------------------------------------------


class _Analyzer:
    def __init__(self, provider: str) -> None:
        provider = provider.lower()
        if provider in ("postgresql", "postgres"):
            self.provider = "postgresql"
        elif provider in ("sqlite", "mysql"):
            self.provider = provider
        else:
            raise FaberError(
                "PROVIDER_UNSUPPORTED",
                f"Provider {provider!r} is not supported by the safety analysis",
                "faber-db supports sqlite and postgresql.",
            )
        self.tables: dict[str, _Table] = {}  # what exists before the pending migrations run
        self.unique_indexes: set[str] = set()
        self.created: set[str] = set()  # created by the migrations being analyzed (no data yet)
        self.redefined: set[str] = set()  # SQLite tables redefined by the migration being analyzed
        self.findings: list[Finding] = []
        self.migration: str | None = None
        self.recording = True
        self.warnings = _PrismaWarnings()

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
        if self.provider == "postgresql":
            self.warnings = _PrismaWarnings.read(_postgres_comments(sql))
            statements = _split_postgres(sql)
            for stmt in statements:
                self._postgres(stmt, stmt.node, stmt.line, stmt.text)
        else:
            self.warnings = _PrismaWarnings.read(_sqlite_comments(sql, self.provider))
            statements = _split_sqlite(sql, self.provider)
            self._sqlite(statements)

    # helpers

    def add(
        self,
        kind: str,
        severity: Severity,
        line: int,
        statement: str,
        table: str | None,
        message: str,
    ) -> None:
        if not self.recording:
            return
        if (
            table is not None
            and table in self.created
            and kind in DESTRUCTIVE_KINDS
            and _SEVERITY_ORDER[severity] > _SEVERITY_ORDER["low"]
        ):
            severity = "low"
            message += " (the table is created by the same migration: no existing data)"
        self.findings.append(
            Finding(
                statement=_clip(statement),
                line=line,
                kind=kind,
                severity=severity,
                table=table,
                migration=self.migration,
                message=message,
            )
        )

    def unparsed(self, stmt: _Stmt, why: str | None) -> None:
        self.add(UNPARSED, "medium", stmt.line, stmt.text, None,
                 f"The statement could not be analyzed ({why or 'parse error'}); review it by hand")

    def table(self, name: str) -> _Table:
        return self.tables.setdefault(name, _Table(known=False))

    def exists(self, name: str) -> bool:
        return name not in self.created

    def create_table(self, name: str, columns: dict[str, _Column]) -> None:
        self.tables[name] = _Table(columns)
        self.created.add(name)

    def drop_table(self, name: str) -> None:
        self.tables.pop(name, None)
        self.created.discard(name)

    def rename_table(self, old: str, new: str) -> None:
        self.tables[new] = self.tables.pop(old, _Table(known=False))
        if old in self.created:
            self.created.discard(old)
            self.created.add(new)
        else:
            self.created.discard(new)

    # --- PostgreSQL --------------------------------------------------------------------------

    def _postgres(self, stmt: _Stmt, node: Any, line: int, text: str) -> None:
        from pglast import ast, enums

        if node is None:
            self.unparsed(stmt, stmt.error)
            return
        if isinstance(node, ast.DropdbStmt):
            self.add("drop_database", "critical", line, text, None,
                     f'Drops the whole database "{node.dbname}"')
        elif isinstance(node, ast.DropStmt):
            self._pg_drop(node, line, text)
        elif isinstance(node, ast.TruncateStmt):
            for rel in node.relations or ():
                self.add("truncate", "high", line, text, rel.relname, f'Deletes every row of "{rel.relname}"')
        elif isinstance(node, ast.DeleteStmt):
            if node.whereClause is None:
                table = _relname(node.relation)
                self.add("delete_without_where", "high", line, text, table,
                         f'DELETE without WHERE removes every row of "{table}"')
        elif isinstance(node, ast.UpdateStmt):
            if node.whereClause is None:
                table = _relname(node.relation)
                self.add("update_without_where", "high", line, text, table,
                         f'UPDATE without WHERE overwrites every row of "{table}"')
        elif isinstance(node, ast.CreateStmt):
            self.create_table(_relname(node.relation), self._pg_columns(node.tableElts))
        elif isinstance(node, ast.CreateTableAsStmt):
            target = node.into.rel.relname if node.into is not None and node.into.rel is not None else None
            if target:
                self.tables[target] = _Table(known=False)
                self.created.add(target)
        elif isinstance(node, ast.IndexStmt):
            table = _relname(node.relation)
            if node.unique and self.exists(table) and node.idxname not in self.unique_indexes:
                columns = ", ".join(e.name or "(expression)" for e in node.indexParams or ())
                self.add("add_unique", "medium", line, text, table,
                         f'Adds a unique index on "{table}" ({columns}); existing duplicate values make it fail')
            if node.unique and node.idxname:
                self.unique_indexes.add(node.idxname)
        elif isinstance(node, ast.AlterTableStmt):
            if node.objtype == enums.ObjectType.OBJECT_TABLE and node.relation is not None:
                self._pg_alter_table(node, line, text)
        elif isinstance(node, ast.RenameStmt):
            self._pg_rename(node, line, text)
        elif isinstance(node, ast.DoStmt):
            self._pg_do(stmt, node, line)

    def _pg_drop(self, node: Any, line: int, text: str) -> None:
        from pglast import ast, enums

        kind = node.removeType
        if kind == enums.ObjectType.OBJECT_SCHEMA:
            for obj in node.objects or ():
                name = obj.sval if isinstance(obj, ast.String) else str(obj)
                self.add("drop_schema", "critical", line, text, None,
                         f'Drops schema "{name}" and {"everything in it" if node.behavior else "it"}')
        elif kind == enums.ObjectType.OBJECT_TABLE:
            for obj in node.objects or ():
                table = _last_name(obj)
                self.add("drop_table", "high", line, text, table, data_loss_message(table))
                self.drop_table(table)
        elif kind == enums.ObjectType.OBJECT_INDEX:
            for obj in node.objects or ():
                self.unique_indexes.discard(_last_name(obj))

    def _pg_columns(self, elements: Any) -> dict[str, _Column]:
        from pglast import ast

        columns: dict[str, _Column] = {}
        for element in elements or ():
            if isinstance(element, ast.ColumnDef) and element.colname:
                columns[element.colname] = self._pg_column(element)
        return columns

    def _pg_column(self, column: Any) -> _Column:
        from pglast import ast, enums

        result = _Column(_pg_type_text(column.typeName), bool(column.is_not_null), column.raw_default is not None)
        for constraint in column.constraints or ():
            if not isinstance(constraint, ast.Constraint):
                continue
            if constraint.contype in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
                result.not_null = True
            elif constraint.contype in (enums.ConstrType.CONSTR_DEFAULT, enums.ConstrType.CONSTR_IDENTITY,
                                        enums.ConstrType.CONSTR_GENERATED):
                result.has_default = True
        return result

    def _pg_alter_table(self, node: Any, line: int, text: str) -> None:
        from pglast import ast, enums

        table = _relname(node.relation)
        types = enums.AlterTableType
        cmds: list[Any] = [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
        defaults = {c.name for c in cmds if c.subtype == types.AT_ColumnDefault and c.def_ is not None}
        known = self.table(table)
        for cmd in cmds:
            if cmd.subtype == types.AT_DropColumn:
                self.add("drop_column", "high", line, text, table, data_loss_message(table, cmd.name))
                known.columns.pop(cmd.name, None)
            elif cmd.subtype == types.AT_AlterColumnType:
                column = known.columns.get(cmd.name)
                old = column.type if column is not None else None
                hint = self.warnings.casts.get((table, cmd.name))
                if old is None and hint is not None:
                    old = hint[0]
                new = _pg_type_text(cmd.def_.typeName if cmd.def_ is not None else None)
                using = cmd.def_ is not None and cmd.def_.raw_default is not None
                severity, why = _type_change(old, new, using=using)
                self.add("alter_column_type", severity, line, text, table, f'Column "{cmd.name}" of "{table}": {why}')
                if column is not None:
                    column.type = new
                elif known.known:
                    known.columns[cmd.name] = _Column(new)
            elif cmd.subtype == types.AT_SetNotNull:
                if cmd.name in defaults:
                    self.add("set_not_null", "low", line, text, table,
                             f'Column "{cmd.name}" of "{table}" becomes NOT NULL with a DEFAULT in the same '
                             "statement (existing NULLs still make it fail)")
                else:
                    self.add("set_not_null", "medium", line, text, table,
                             f'Column "{cmd.name}" of "{table}" becomes NOT NULL without a default: '
                             "existing NULL values make the migration fail")
                if cmd.name in known.columns:
                    known.columns[cmd.name].not_null = True
            elif cmd.subtype == types.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                if known.known and cmd.def_.colname:
                    known.columns[cmd.def_.colname] = self._pg_column(cmd.def_)
            elif cmd.subtype == types.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                constraint = cmd.def_
                if constraint.contype == enums.ConstrType.CONSTR_UNIQUE and self.exists(table):
                    if constraint.indexname and constraint.indexname in self.unique_indexes:
                        continue  # ADD CONSTRAINT ... UNIQUE USING INDEX: the index was already checked
                    columns = ", ".join(k.sval for k in constraint.keys or ())
                    self.add("add_unique", "medium", line, text, table,
                             f'Adds a unique constraint on "{table}" ({columns}); existing duplicates make it fail')
                if constraint.conname and constraint.contype == enums.ConstrType.CONSTR_UNIQUE:
                    self.unique_indexes.add(constraint.conname)

    def _pg_rename(self, node: Any, line: int, text: str) -> None:
        from pglast import enums

        objects = enums.ObjectType
        if node.renameType == objects.OBJECT_TABLE and node.relation is not None:
            old = _relname(node.relation)
            self.add("rename", "medium", line, text, old,
                     f'Renames table "{old}" to "{node.newname}": code still using the old name breaks')
            self.rename_table(old, node.newname)
        elif node.renameType == objects.OBJECT_COLUMN and node.relation is not None:
            table = _relname(node.relation)
            self.add("rename", "medium", line, text, table,
                     f'Renames column "{node.subname}" of "{table}" to "{node.newname}": '
                     "code still using the old name breaks")
            known = self.table(table)
            if node.subname in known.columns:
                known.columns[node.newname] = known.columns.pop(node.subname)
        elif node.renameType in (objects.OBJECT_INDEX, objects.OBJECT_TABCONSTRAINT) and node.subname:
            if node.subname in self.unique_indexes:
                self.unique_indexes.add(node.newname)
        elif (
            node.renameType == objects.OBJECT_INDEX
            and node.relation is not None
            and _relname(node.relation) in self.unique_indexes
        ):
            self.unique_indexes.add(node.newname)

    def _pg_do(self, stmt: _Stmt, node: Any, line: int) -> None:
        """A DO block: analyze the SQL statements of its PL/pgSQL body one by one."""
        import pglast

        body: str | None = None
        language = "plpgsql"
        body_offset: int | None = None
        for arg in node.args or ():
            if arg.defname == "as":
                body = arg.arg.sval
                body_offset = getattr(arg, "arg_location", None)
            elif arg.defname == "language":
                language = arg.arg.sval.lower()
        if body is None or language != "plpgsql":
            self.unparsed(stmt, f"DO block in language {language}")
            return
        base_line = line
        if body_offset is not None and body_offset >= stmt.start:
            # The body's first line: the line of the opening quote ($$ or $tag$) in the file.
            base_line = line + stmt.text.count("\n", 0, max(body_offset - stmt.start, 0))
        source = f"CREATE FUNCTION faber_db_do() RETURNS void AS $faber_db${body}$faber_db$ LANGUAGE plpgsql"
        try:
            tree = pglast.parse_plpgsql(source)
        except Exception as exc:  # pglast raises its ParseError; nothing else is expected
            self.unparsed(stmt, f"DO block body: {exc}")
            return
        for kind, lineno, query in _plpgsql_statements(tree):
            inner_line = base_line + max(lineno - 1, 0)
            if kind == "dynamic":
                self.add(UNPARSED, "medium", inner_line, stmt.text, None,
                         f"The DO block runs dynamic SQL (EXECUTE {query[:80]}) that cannot be analyzed; "
                         "review it by hand")
                continue
            try:
                parsed = pglast.parse_sql(query)
            except pglast.parser.ParseError as exc:
                self.add(UNPARSED, "medium", inner_line, query, None,
                         f"A statement in the DO block could not be analyzed ({exc})")
                continue
            for raw in parsed:
                inner = _Stmt(query.strip(), stmt.start, stmt.end, inner_line, raw.stmt)
                self._postgres(inner, raw.stmt, inner_line, query.strip())

    # --- SQLite --------------------------------------------------------------------------------

    def _sqlite(self, statements: list[_Stmt]) -> None:
        redefinitions = _find_redefinitions(statements)
        skip = {index for r in redefinitions.values() for index in r.indexes}
        for index, stmt in enumerate(statements):
            if index in redefinitions:
                self._sqlite_redefinition(statements, redefinitions[index])
            if index in skip:
                continue
            self._sqlite_statement(stmt)

    def _sqlite_statement(self, stmt: _Stmt) -> None:
        from sqlglot import exp

        node = stmt.node
        line, text = stmt.line, stmt.text
        if node is None:
            self.unparsed(stmt, stmt.error)
            return
        if isinstance(node, exp.Drop):
            kind = str(node.args.get("kind") or "").upper()
            for obj in _drop_targets(node):
                if kind == "TABLE":
                    self.add("drop_table", "high", line, text, obj, data_loss_message(obj))
                    self.drop_table(obj)
                elif kind == "DATABASE":
                    self.add("drop_database", "critical", line, text, None, f'Drops the whole database "{obj}"')
                elif kind == "SCHEMA":
                    self.add("drop_schema", "critical", line, text, None, f'Drops schema "{obj}"')
                elif kind == "INDEX":
                    self.unique_indexes.discard(obj)
        elif isinstance(node, exp.Delete):
            if node.args.get("where") is None:
                table = _table_name(node.this)
                self.add("delete_without_where", "high", line, text, table,
                         f'DELETE without WHERE removes every row of "{table}"')
        elif isinstance(node, exp.Update):
            if node.args.get("where") is None:
                table = _table_name(node.this)
                self.add("update_without_where", "high", line, text, table,
                         f'UPDATE without WHERE overwrites every row of "{table}"')
        elif isinstance(node, exp.TruncateTable):
            for target in node.expressions:
                table = _table_name(target)
                self.add("truncate", "high", line, text, table, f'Deletes every row of "{table}"')
        elif isinstance(node, exp.Create):
            kind = str(node.args.get("kind") or "").upper()
            if kind == "TABLE":
                name = _table_name(node.this)
                if name:
                    self.create_table(name, _sqlite_columns(node))
            elif kind == "INDEX" and node.args.get("unique"):
                index = node.this
                table = _table_name(index.args.get("table")) if isinstance(index, exp.Index) else None
                name = index.name if isinstance(index, exp.Index) else ""
                if table and self.exists(table) and name not in self.unique_indexes:
                    if (table in self.redefined and self.warnings.present
                            and table not in self.warnings.unique_added):
                        self.add("add_unique", "low", line, text, table,
                                 f'Re-creates unique index "{name}" on redefined "{table}" (Prisma\'s '
                                 "warnings list no new unique constraint)")
                    else:
                        self.add("add_unique", "medium", line, text, table,
                                 f'Adds a unique index on "{table}"; existing duplicate values make it fail')
                if name:
                    self.unique_indexes.add(name)
        elif isinstance(node, exp.Alter):
            self._sqlite_alter(stmt, node)

    def _sqlite_alter(self, stmt: _Stmt, node: Any) -> None:
        from sqlglot import exp

        table = _table_name(node.this) or "?"
        line, text = stmt.line, stmt.text
        known = self.table(table)
        for action in node.args.get("actions") or ():
            if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
                for column in _drop_targets(action):
                    self.add("drop_column", "high", line, text, table, data_loss_message(table, column))
                    known.columns.pop(column, None)
            elif isinstance(action, exp.RenameColumn):
                old, new = action.this.name, action.args["to"].name
                self.add("rename", "medium", line, text, table,
                         f'Renames column "{old}" of "{table}" to "{new}": code still using the old name breaks')
                if old in known.columns:
                    known.columns[new] = known.columns.pop(old)
            elif isinstance(action, exp.AlterRename):
                new = _table_name(action.this) or "?"
                self.add("rename", "medium", line, text, table,
                         f'Renames table "{table}" to "{new}": code still using the old name breaks')
                self.rename_table(table, new)
            elif isinstance(action, exp.ColumnDef):
                if known.known:
                    known.columns[action.name] = _sqlite_column(action)
            elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                existing = known.columns.get(action.this.name)
                severity, why = _type_change(existing.type if existing else None, action.args["dtype"].sql(),
                                             using=action.args.get("using") is not None)
                self.add("alter_column_type", severity, line, text, table, f'Column "{action.this.name}": {why}')
            else:
                self.unparsed(stmt, f"ALTER TABLE action {type(action).__name__}")

    def _sqlite_redefinition(self, statements: list[_Stmt], redef: _Redefinition) -> None:
        """Prisma's SQLite "redefine table": report what the copy loses, not a drop and a rename."""
        drop = statements[redef.drop]
        line, text, table = drop.line, drop.text, redef.table
        new_columns = _sqlite_columns(statements[redef.create].node)
        old = self.tables.get(table)
        copied = redef.copied  # new column -> old column (None: an expression)
        sources = {source for source in copied.values() if source is not None}
        found = False
        if old is not None and old.known:
            for column in old.columns:
                if column not in sources:
                    found = True
                    self.add("drop_column", "high", line, text, table,
                             f'Redefining "{table}" drops column "{column}" and its data (not copied)')
            for target, source in copied.items():
                new_col = new_columns.get(target)
                old_col = old.columns.get(source) if source is not None else None
                if new_col is None:
                    continue
                if source is None:
                    found = True
                    self.add("alter_column_type", "medium", line, text, table,
                             f'Redefining "{table}" fills column "{target}" from an expression')
                    continue
                if old_col is None:
                    continue
                if old_col.type and new_col.type and _parse_type(old_col.type) != _parse_type(new_col.type):
                    severity, why = _type_change(old_col.type, new_col.type, using=False)
                    found = True
                    self.add("alter_column_type", severity, line, text, table, f'Column "{target}": {why}')
                if new_col.not_null and not old_col.not_null:
                    found = True
                    if new_col.has_default:
                        self.add("set_not_null", "low", line, text, table,
                                 f'Column "{target}" of "{table}" becomes NOT NULL (it has a default, but '
                                 "existing NULLs are copied as NULL and make the copy fail)")
                    else:
                        self.add("set_not_null", "medium", line, text, table,
                                 f'Column "{target}" of "{table}" becomes NOT NULL without a default: '
                                 "existing NULL values make the migration fail")
            if not found:
                self.add("alter_column_type", "low", line, text, table,
                         f'Table "{table}" is redefined (copied into a new table); every column is kept')
        else:
            # Prisma's warning comment, when there is one, names what the redefinition loses.
            dropped = sorted(self.warnings.dropped_columns.get(table, set()) - sources)
            for column in dropped:
                found = True
                self.add("drop_column", "high", line, text, table,
                         f'Redefining "{table}" drops column "{column}" and its data (not copied)')
            for target in copied:
                if (table, target) in self.warnings.made_required:
                    found = True
                    self.add("set_not_null", "medium", line, text, table,
                             f'Column "{target}" of "{table}" becomes required (NOT NULL)')
                hint = self.warnings.casts.get((table, target))
                if hint is not None:
                    found = True
                    severity, why = _type_change(hint[0], hint[1], using=False)
                    self.add("alter_column_type", severity, line, text, table, f'Column "{target}": {why}')
            if not found:
                self.add("alter_column_type", "medium", line, text, table,
                         f'Table "{table}" is redefined (copied into a new table); its old columns are not '
                         "known here, so dropped columns or type changes cannot be ruled out "
                         f"(copied: {', '.join(sorted(sources)) or 'nothing'})")
        # the new table replaces the old one
        self.redefined.add(table)
        self.tables[table] = _Table(new_columns)
        self.created.discard(table)
        self.created.discard(redef.new)
        self.tables.pop(redef.new, None)


# --- SQLite helpers ----------------------------------------------------------------------------


@dataclass
class _Redefinition:
    table: str
    new: str
    create: int
    insert: int
    drop: int
    rename: int
    copied: dict[str, str | None]

    @property
    def indexes(self) -> tuple[int, ...]:
        return (self.create, self.insert, self.drop, self.rename)


def _find_redefinitions(statements: list[_Stmt]) -> dict[int, _Redefinition]:
    """CREATE TABLE T2; INSERT INTO T2 ... SELECT ... FROM T; DROP TABLE T; ALTER TABLE T2 RENAME TO T.

    Keyed by the index of the CREATE statement. Without the INSERT ... SELECT FROM T the old data
    is simply dropped, so that is reported as a drop_table, not as a redefinition.
    """
    from sqlglot import exp

    creates: dict[str, int] = {}
    inserts: dict[tuple[str, str], tuple[int, dict[str, str | None]]] = {}
    drops: dict[str, int] = {}
    found: dict[int, _Redefinition] = {}
    for index, stmt in enumerate(statements):
        node = stmt.node
        if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() == "TABLE":
            name = _table_name(node.this)
            if name:
                creates[name] = index
        elif isinstance(node, exp.Insert) and isinstance(node.expression, exp.Select):
            target = _table_name(node.this)
            select = node.expression
            source = _table_name(select.args.get("from_") or select.args.get("from"))
            if target in creates and source:
                inserts[(target, source)] = (index, _copied_columns(node))
        elif isinstance(node, exp.Drop) and str(node.args.get("kind") or "").upper() == "TABLE":
            for name in _drop_targets(node):
                drops[name] = index
        elif isinstance(node, exp.Alter):
            for action in node.args.get("actions") or ():
                if not isinstance(action, exp.AlterRename):
                    continue
                new, table = _table_name(node.this), _table_name(action.this)
                if new in creates and table in drops and (new, table) in inserts:
                    insert_index, copied = inserts[(new, table)]
                    create = creates[new]
                    if create < insert_index < drops[table] < index:
                        found[create] = _Redefinition(table, new, create, insert_index, drops[table], index, copied)
    return found


def _copied_columns(insert: Any) -> dict[str, str | None]:
    from sqlglot import exp

    targets = [e.name for e in insert.this.expressions] if isinstance(insert.this, exp.Schema) else []
    select = insert.expression
    copied: dict[str, str | None] = {}
    for position, expression in enumerate(select.expressions):
        inner = expression.this if isinstance(expression, exp.Alias) else expression
        source = inner.name if isinstance(inner, exp.Column) else None
        target = targets[position] if position < len(targets) else (expression.alias_or_name or f"#{position}")
        copied[target] = source
    return copied


def _table_name(node: Any) -> str | None:
    from sqlglot import exp

    if node is None:
        return None
    if isinstance(node, exp.From):
        node = node.this
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        return str(node.name)
    if isinstance(node, exp.Identifier):
        return str(node.this)
    return None


def _drop_targets(node: Any) -> list[str]:
    from sqlglot import exp

    targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
    names: list[str] = []
    for target in targets:
        if isinstance(target, (exp.Table, exp.Column, exp.Identifier)):
            names.append(str(target.name))
    return names


def _sqlite_columns(create: Any) -> dict[str, _Column]:
    from sqlglot import exp

    columns: dict[str, _Column] = {}
    schema = create.this if create is not None else None
    if not isinstance(schema, exp.Schema):
        return columns
    for element in schema.expressions:
        if isinstance(element, exp.ColumnDef):
            columns[element.name] = _sqlite_column(element)
    return columns


def _sqlite_column(column: Any) -> _Column:
    from sqlglot import exp

    kind = column.args.get("kind")
    result = _Column(kind.sql() if kind is not None else None)
    for constraint in column.args.get("constraints") or ():
        inner = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        not_null = isinstance(inner, exp.NotNullColumnConstraint) and not inner.args.get("allow_null")
        if not_null or isinstance(inner, exp.PrimaryKeyColumnConstraint):
            result.not_null = True
        elif isinstance(inner, exp.DefaultColumnConstraint):
            result.has_default = True
    return result


# --- PL/pgSQL helpers --------------------------------------------------------------------------


def _plpgsql_statements(tree: Any) -> Iterator[tuple[str, int, str]]:
    """("sql" | "dynamic", lineno, query) for each SQL statement a PL/pgSQL body runs."""
    if isinstance(tree, list):
        for item in tree:
            yield from _plpgsql_statements(item)
        return
    if not isinstance(tree, dict):
        return
    for key, value in tree.items():
        if key == "PLpgSQL_stmt_execsql" and isinstance(value, dict):
            query = value.get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query", "")
            yield "sql", int(value.get("lineno", 1)), str(query)
            continue
        if key == "PLpgSQL_stmt_dynexecute" and isinstance(value, dict):
            query = value.get("query", {}).get("PLpgSQL_expr", {}).get("query", "")
            yield "dynamic", int(value.get("lineno", 1)), str(query)
            continue
        yield from _plpgsql_statements(value)


def _relname(relation: Any) -> str:
    return str(getattr(relation, "relname", None) or "?")


def _last_name(names: Any) -> str:
    """The last part of a qualified pglast name (a tuple of String nodes)."""
    parts = [getattr(part, "sval", None) for part in names or ()]
    strings = [p for p in parts if isinstance(p, str)]
    return strings[-1] if strings else "?"


def _pg_statement_table(node: Any) -> str | None:
    """The table a PostgreSQL statement mainly touches (for lint findings)."""
    if node is None:
        return None
    relation = getattr(node, "relation", None)
    relname = getattr(relation, "relname", None)
    return str(relname) if relname else None
