"""Migration SQL as statements: text, character offsets and the exact 1-based line of each
statement's first token (comments before it do not count), parsed by the database's own parser
(pglast for PostgreSQL, sqlglot for SQLite). A statement no parser understood keeps `node` None
and an `error`: the analysis reports it, never skips it.

pglast and sqlglot are imported inside functions: `faber-db status` must not pay for them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

MAX_STATEMENT_CHARS = 500

@dataclass
class Stmt:
    text: str
    start: int  # character offsets into the file
    end: int
    line: int  # 1-based line of the first token
    node: Any = None  # the parsed statement (pglast node or sqlglot expression); None: not parsed
    error: str | None = None
    base: int = 0  # the file offset the parser's locations in `node` count from
    name: str | None = None  # what a statement the parser could not read creates (a SQLite trigger)

    def line_at(self, location: int) -> int:
        """The file line of a location the parser reported inside this statement."""
        return self.line + self.text.count("\n", 0, max(self.base + location - self.start, 0))


class LineIndex:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def offset(self, line0: int, column: int) -> int:
        line0 = min(max(line0, 0), len(self.starts) - 1)
        return self.starts[line0] + max(column, 0)


def statement_at(statements: list[Stmt], offset: int) -> Stmt | None:
    best: Stmt | None = None
    for stmt in statements:
        if stmt.start <= offset:
            best = stmt
        else:
            break
    return best


def clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_STATEMENT_CHARS else text[: MAX_STATEMENT_CHARS - 1] + "…"


def split_postgres(sql: str) -> list[Stmt]:
    """Statements with their positions; one that does not parse keeps node None and an error."""
    from pglast import parse_sql, parser

    lines = LineIndex(sql)
    try:
        tokens = [t for t in parser.scan(sql) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except parser.ParseError as exc:  # an unterminated string or comment: nothing can be split
        text = sql.strip()
        start = len(sql) - len(sql.lstrip())
        return [Stmt(text, start, len(sql), lines.line(start), None, str(exc))] if text else []
    starts = [t.start for t in tokens]

    def first_token_at(offset: int) -> int:
        index = bisect.bisect_left(starts, offset)
        return starts[index] if index < len(starts) else offset

    statements: list[Stmt] = []
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
            statements.append(Stmt(text, begin, stop, lines.line(begin), item.stmt))
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
            statements.append(Stmt(text.strip(), begin, stop, lines.line(begin), node, error, base=begin))
        chunk = []
    return statements


_SQLITE_HARMLESS_COMMANDS = frozenset(
    {"PRAGMA", "VACUUM", "ANALYZE", "REINDEX", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}
)


def split_sqlite(sql: str, dialect: str) -> tuple[list[Stmt], list[str]]:
    """The statements and the comments: tokenized once, each statement parsed from its own tokens
    (sqlglot's tokenizer is pure Python, and a history replay reads every earlier migration)."""
    import logging

    import sqlglot
    from sqlglot import TokenType
    from sqlglot.errors import ParseError, TokenError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" chatter
    lines = LineIndex(sql)
    reader = sqlglot.Dialect.get_or_raise(dialect)
    try:
        tokens = reader.tokenize(sql)
    except TokenError as exc:
        text = sql.strip()
        start = len(sql) - len(sql.lstrip())
        return ([Stmt(text, start, len(sql), lines.line(start), None, str(exc))] if text else []), []
    comments = [comment for token in tokens for comment in (token.comments or [])]

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

    statements: list[Stmt] = []
    for chunk in chunks:
        begin, stop = chunk[0].start, chunk[-1].end + 1
        text = sql[begin:stop]
        stmt = Stmt(text.strip(), begin, stop, lines.line(begin))
        first = chunk[0].text.upper()
        if _is_trigger(chunk):
            stmt.node = "trigger"  # a trigger body does not run at migration time
            stmt.name = _trigger_name(chunk)
        elif first in _SQLITE_HARMLESS_COMMANDS:
            stmt.node = first.lower()  # PRAGMA, VACUUM, SAVEPOINT ...: no data is changed
        else:
            try:
                stmt.node = reader.parser().parse(chunk, sql)[0]  # positions index the whole file
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
    return statements, comments


def _sqlite_statement_types() -> tuple[type[Any], ...]:
    from sqlglot import exp

    return (
        exp.Create, exp.Drop, exp.Alter, exp.Insert, exp.Update, exp.Delete, exp.Query, exp.Pragma,
        exp.Transaction, exp.Commit, exp.Rollback, exp.TruncateTable, exp.Analyze, exp.Attach, exp.Detach,
    )


def _is_trigger(chunk: list[Any]) -> bool:
    words = [t.text.upper() for t in chunk[:4]]
    return len(words) >= 2 and words[0] == "CREATE" and "TRIGGER" in words[1:4]


def _trigger_name(chunk: list[Any]) -> str | None:
    """The name in CREATE [TEMP] TRIGGER [IF NOT EXISTS] [schema.]name ..."""
    words = [t.text for t in chunk[:9]]
    upper = [w.upper() for w in words]
    at = upper.index("TRIGGER") + 1
    if upper[at : at + 3] == ["IF", "NOT", "EXISTS"]:
        at += 3
    if at + 2 < len(words) and words[at + 1] == ".":
        at += 2
    return words[at] if at < len(words) else None


def _is_open_trigger(chunk: list[Any]) -> bool:
    return _is_trigger(chunk) and chunk[-1].text.upper() != "END"



def postgres_comments(sql: str) -> list[str]:
    from pglast import parser

    try:
        return [c.str for c in parser.comments(sql)]
    except parser.ParseError:
        return []


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_FK_ACTIONS = re.compile(r"\bON\s+(DELETE|UPDATE)\s+(CASCADE|RESTRICT|NO\s+ACTION|SET\s+NULL|SET\s+DEFAULT)\b", re.I)
_RISKY_WORD = re.compile(r"\b(DROP|ALTER|TRUNCATE|DELETE|UPDATE|RENAME|UNIQUE|REPLACE|MERGE|EXECUTE)\b|\$\$", re.I)
_NEW_TABLE = re.compile(r"\s*CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS\b)(?P<table>\S+?)\s*\(", re.I)
_UNIQUE_INDEX = re.compile(r"\s*CREATE\s+UNIQUE\s+INDEX\s+(?!CONCURRENTLY\b|IF\b)\S+\s+ON\s+(?P<table>\S+?)\s*\(", re.I)
_UNIQUE = re.compile(r"\bUNIQUE\b", re.I)
_ADDITIVE_START = re.compile(
    r"\s*(CREATE\s+(TABLE|INDEX|TYPE|SEQUENCE|EXTENSION|SCHEMA)\b|COMMENT\s+ON\b|BEGIN\b|COMMIT\b)", re.I)


def creates_only_new_objects(sql: str) -> bool:
    return plainly_additive(sql) and not re.search(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b", _COMMENTS.sub(" ", sql), re.I)


def plainly_additive(sql: str) -> bool:
    """True only for a script every statement of which creates something new (tables, plain
    indexes, types...) and that names nothing risky: such a file cannot lose data, so the parser
    (and its ~0.1 s import) is not needed. Anything else, unknown text included, is parsed.
    UNIQUE is risky (existing duplicates fail it) except where no row can exist yet: in a table the
    script creates (not `IF NOT EXISTS`), and in a unique index on a table an earlier statement of the
    script created."""
    text = _FK_ACTIONS.sub(" ", _COMMENTS.sub(" ", sql))
    created: set[str] = set()
    for part in text.split(";"):
        if not part.strip():
            continue
        new_table = _NEW_TABLE.match(part)
        unique = _UNIQUE_INDEX.match(part)
        if new_table is not None:
            created.add(new_table["table"])
            part = _UNIQUE.sub(" ", part)
        elif unique is not None and unique["table"] in created:
            part = part[unique.end():]  # the index's columns (and WHERE): still nothing risky
        elif not _ADDITIVE_START.match(part):
            return False
        if _RISKY_WORD.search(part):
            return False
    return True

