"""The down script of a purely additive Prisma migration, written without a second Prisma run.

Prisma's reverse `migrate diff` (schema -> history) costs a whole Node process. When every statement
of the up script only creates something (tables, indexes, enums, foreign keys, and on PostgreSQL
columns), its inverse is mechanical: drop what was created, newest first, in Prisma's own format.
Names are reused exactly as the script quotes them. Anything else -- a statement this module does
not recognise, dollar quoting, a SQLite column addition (Prisma drops SQLite columns by redefining
the table) -- returns None and the caller keeps Prisma's reverse diff. Recognising too little only
costs time; never guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Inverse:
    sql: str
    # the data the script drops: (table, column), column None for a whole table
    drops: list[tuple[str, str | None]] = field(default_factory=list)


_IDENT = r'"(?:[^"]|"")+"'
_QUALIFIED = rf"(?:{_IDENT}\.)?{_IDENT}"  # Prisma 6.15+ writes "public"."User"; older ones "User"
_CREATE_TABLE = re.compile(rf"CREATE TABLE (?P<table>{_QUALIFIED}) \(", re.S)
_CREATE_INDEX = re.compile(
    rf"CREATE (?:UNIQUE )?INDEX (?P<index>{_IDENT}) ON (?P<table>{_QUALIFIED})\s*(?:USING \w+\s*)?\(", re.S)
_CREATE_ENUM = re.compile(rf"CREATE TYPE (?P<type>{_QUALIFIED}) AS ENUM \(", re.S)
_ADD_FOREIGN_KEY = re.compile(
    rf"ALTER TABLE (?P<table>{_QUALIFIED}) ADD CONSTRAINT (?P<constraint>{_IDENT}) FOREIGN KEY \(", re.S)
_ADD_COLUMNS = re.compile(rf"ALTER TABLE (?P<table>{_QUALIFIED}) ADD COLUMN ", re.S)
_QUALIFIED_PARTS = re.compile(rf"(?P<schema>{_IDENT}\.)?(?P<name>{_IDENT})", re.S)


def invert_additive(sql: str, provider: str, qualify: str | None = None) -> Inverse | None:
    """Prisma's down script for `sql` when every statement creates something; else None.
    `qualify` (PostgreSQL): the schema to put before names the up script leaves unqualified, as Prisma 7
    writes its reverse diff ("public"."User") even where its forward one says "User"."""
    statements = split_statements(sql)
    if not statements:
        return None
    if qualify and provider == "postgresql":
        statements = [_qualified(s, qualify) for s in statements]
    created_tables = {m["table"] for s in statements if (m := _CREATE_TABLE.match(s))}
    inverse = Inverse("")
    blocks: list[str] = []
    for statement in reversed(statements):
        block = _inverse(statement, provider, created_tables, inverse.drops)
        if block is None:
            return None
        if block:
            blocks.append(block)
    inverse.sql = "\n\n".join(blocks) + "\n"
    return inverse


def _inverse(statement: str, provider: str, created_tables: set[str],
             drops: list[tuple[str, str | None]]) -> str | None:
    """One statement's inverse as a Prisma-style block ("" when dropping its table undoes it); the
    data it drops is added to `drops`."""
    postgres = provider == "postgresql"
    if match := _CREATE_TABLE.match(statement):
        drops.append((_bare(match["table"]), None))
        drop = f"DROP TABLE {match['table']};"
        if postgres:
            return f"-- DropTable\n{drop}"
        return f"-- DropTable\nPRAGMA foreign_keys=off;\n{drop}\nPRAGMA foreign_keys=on;"
    if match := _CREATE_INDEX.match(statement):
        if match["table"] in created_tables:
            return ""
        schema, _ = _parts(match["table"])
        return f"-- DropIndex\nDROP INDEX {schema}{match['index']};"  # an index lives in its table's schema
    if not postgres:
        return None
    if match := _CREATE_ENUM.match(statement):
        return f"-- DropEnum\nDROP TYPE {match['type']};"
    if match := _ADD_FOREIGN_KEY.match(statement):
        return f"-- DropForeignKey\nALTER TABLE {match['table']} DROP CONSTRAINT {match['constraint']};"
    if match := _ADD_COLUMNS.match(statement):
        columns = _added_columns(statement)
        if not columns:
            return None
        drops.extend((_bare(match["table"]), c) for c in columns)
        clauses = ",\n".join(f"DROP COLUMN {_quote(c)}" for c in columns)
        return f"-- AlterTable\nALTER TABLE {match['table']} {clauses};"
    return None


def _added_columns(statement: str) -> list[str] | None:
    """The column names of `ALTER TABLE t ADD COLUMN a ..., ADD COLUMN b ...`, read by PostgreSQL's
    own parser; None unless every clause is a plain ADD COLUMN."""
    try:
        import pglast
        from pglast import ast, enums
    except ImportError:  # pragma: no cover - pglast is a dependency
        return None
    try:
        [raw] = pglast.parse_sql(statement)
    except Exception:  # pglast.parser.ParseError, or more than one statement
        return None
    node = raw.stmt
    if not isinstance(node, ast.AlterTableStmt) or node.missing_ok:
        return None
    columns: list[str] = []
    for command in node.cmds or ():
        if command.subtype != enums.AlterTableType.AT_AddColumn or command.missing_ok:
            return None
        columns.append(command.def_.colname)
    return columns


def split_statements(sql: str) -> list[str] | None:
    """The statements of a script without comments or the final `;`; None for text this simple
    scanner must not judge (dollar quoting, an unterminated quote or comment)."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            if current and current[-1] != " ":
                current.append(" ")
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                return None
            i = end + 2
            if current and current[-1] != " ":
                current.append(" ")
            continue
        if char == "$":
            return None
        if char in "'\"":
            end = i + 1
            while True:
                end = sql.find(char, end)
                if end < 0:
                    return None
                if sql.startswith(char * 2, end):  # '' and "" escape the quote
                    end += 2
                    continue
                break
            current.append(sql[i:end + 1])  # quoted text is kept exactly
            i = end + 1
            continue
        if char == ";":
            statements.append("".join(current).strip())
            current = []
        elif char.isspace():
            if current and current[-1] != " ":  # runs of whitespace outside quotes become one space
                current.append(" ")
        else:
            current.append(char)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


_OBJECT_NAME = re.compile(rf"^(CREATE TABLE |CREATE TYPE |ALTER TABLE |CREATE (?:UNIQUE )?INDEX {_IDENT} ON )"
                          rf"(?P<name>{_QUALIFIED})", re.S)


def _qualified(statement: str, schema: str) -> str:
    """The statement with its object's name in `schema` when the name has none."""
    match = _OBJECT_NAME.match(statement)
    if not match or _parts(match["name"])[0]:
        return statement
    return statement[:match.start("name")] + _quote(schema) + "." + statement[match.start("name"):]


def _parts(qualified: str) -> tuple[str, str]:
    """`"public"."User"` -> (`"public".`, `"User"`); `"User"` -> ("", `"User"`)."""
    match = _QUALIFIED_PARTS.fullmatch(qualified)
    assert match is not None, qualified  # `qualified` was matched by _QUALIFIED
    return match["schema"] or "", match["name"]


def _bare(qualified: str) -> str:
    """`"public"."User"` -> `User` (the name a finding uses)."""
    return _parts(qualified)[1][1:-1].replace('""', '"')


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'  # a column name as pglast returns it, unquoted
