"""The down script of a Prisma migration, written without a second Prisma run.

Prisma's reverse `migrate diff` (schema -> history) costs a whole Node process. When every statement
of the up script only creates something (tables, indexes, enums, foreign keys, and on PostgreSQL
columns), its inverse is mechanical: drop what was created, newest first, in Prisma's own format
(`invert_additive`). Names are reused exactly as the script quotes them.

A script that drops or alters something needs to know what was there: `invert_from_catalog` reads
it from the database the history was replayed into (engines.rehearsal) -- on SQLite the original
CREATE TABLE / CREATE INDEX text, on PostgreSQL each column's type, default and nullability and the
indexes and constraints that involved it -- and keeps the inverse only when the rehearsal (the change,
then the inverse, on a copy) gives that database back exactly. Anything else -- a statement this
module does not recognise, dollar quoting, a rehearsal that does not come back -- returns None and the
caller keeps Prisma's reverse diff. Recognising too little only costs time; never guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faber_db.engines import engine

if TYPE_CHECKING:
    from faber_db.engines import Database
    from faber_db.engines.rehearsal import PostgresColumn, PostgresShape, Shape, SqliteShape


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
    if qualify and engine(provider).named_schemas:
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
    database = engine(provider)
    if match := _CREATE_TABLE.match(statement):
        drops.append((_bare(match["table"]), None))
        drop = f"DROP TABLE {match['table']};"
        if database.foreign_keys_off_on is None:
            return f"-- DropTable\n{drop}"
        off, on = database.foreign_keys_off_on
        return f"-- DropTable\n{off}\n{drop}\n{on}"
    if match := _CREATE_INDEX.match(statement):
        if match["table"] in created_tables:
            return ""
        schema, _ = _parts(match["table"])
        return f"-- DropIndex\nDROP INDEX {schema}{match['index']};"  # an index lives in its table's schema
    if not database.alters_tables_in_place:  # SQLite: enums, keys and columns change by rebuilding
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


def invert_from_catalog(sql: str, history: Database, qualify: str | None = None) -> Inverse | None:
    """Prisma's down script for `sql` -- drops and alterations too -- written from the catalog of
    `history`, a database holding the migration history before `sql` (never changed), and kept only
    when a rehearsal of `sql` and then it on a copy of `history` gives `history` back; else None.
    `qualify`: as for invert_additive."""
    from faber_db.engines.rehearsal import PostgresShape, rehearse

    statements = split_statements(sql)
    if not statements:
        return None
    inverse = Inverse("")

    def derive(shape: Shape) -> str | None:
        inverse.drops.clear()
        if isinstance(shape, PostgresShape):
            blocks = _postgres_inverse(statements, shape, inverse.drops, qualify)
        else:
            blocks = _sqlite_inverse(shape, inverse.drops)
        return None if not blocks else "\n\n".join(blocks) + "\n"

    down = rehearse(history, sql, derive)
    if down is None:
        return None
    inverse.sql = down
    return inverse


_TABLE_NAME = re.compile(r'^CREATE TABLE\s+(?P<name>"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\w+)\s*\(', re.S)


def _sqlite_inverse(shape: SqliteShape, drops: list[tuple[str, str | None]]) -> list[str] | None:
    """SQLite, in Prisma's format: tables the change created dropped, tables it dropped re-created from
    their original text, tables it redefined (Prisma alters a SQLite table by re-creating it) redefined
    back, keeping the columns both shapes have; indexes put back as they were."""
    before, after = shape.before, shape.after

    if {n: o for n, o in before.items() if o.type in ("view", "trigger")} != {
            n: o for n, o in after.items() if o.type in ("view", "trigger")}:
        return None  # views and triggers are outside what this writes
    tables_before = {n for n, o in before.items() if o.type == "table"}
    tables_after = {n for n, o in after.items() if o.type == "table"}
    created, dropped = sorted(tables_after - tables_before), sorted(tables_before - tables_after)
    redefined = sorted(t for t in tables_before & tables_after if before[t].sql != after[t].sql)
    rebuilt = set(created) | set(redefined)
    indexes_before = {n: o for n, o in before.items() if o.type == "index"}
    indexes_after = {n: o for n, o in after.items() if o.type == "index"}
    blocks: list[str] = []
    for table in created:
        drops.append((table, None))
        blocks.append(f"-- DropTable\nPRAGMA foreign_keys=off;\nDROP TABLE {_quote(table)};\nPRAGMA foreign_keys=on;")
    for name, index in sorted(indexes_after.items()):
        if index.table not in rebuilt and indexes_before.get(name) != index:
            blocks.append(f"-- DropIndex\nDROP INDEX {_quote(name)};")
    for table in dropped:
        blocks.append(f"-- CreateTable\n{before[table].sql};")
    if redefined:
        steps = ["-- RedefineTables", "PRAGMA defer_foreign_keys=ON;", "PRAGMA foreign_keys=OFF;"]
        for table in redefined:
            match = _TABLE_NAME.match(before[table].sql)
            if not match or _unquote_sqlite(match["name"]) != table:
                return None
            new = _quote(f"new_{table}")
            steps.append(f"CREATE TABLE {new}{before[table].sql[match.end('name'):]};")
            kept = sorted(set(shape.columns_before[table]) & set(shape.columns_after[table]))
            drops.extend((table, c) for c in shape.columns_after[table] if c not in shape.columns_before[table])
            if kept:
                names = ", ".join(_quote(c) for c in kept)
                steps.append(f"INSERT INTO {new} ({names}) SELECT {names} FROM {_quote(table)};")
            steps += [f"DROP TABLE {_quote(table)};", f"ALTER TABLE {new} RENAME TO {_quote(table)};"]
            steps += [f"{index.sql};" for _, index in sorted(indexes_before.items()) if index.table == table]
        blocks.append("\n".join([*steps, "PRAGMA foreign_keys=ON;", "PRAGMA defer_foreign_keys=OFF;"]))
    for name, index in sorted(indexes_before.items()):
        if index.table in dropped or (index.table not in redefined and indexes_after.get(name) != index):
            blocks.append(f"-- CreateIndex\n{index.sql};")
    return blocks


def _unquote_sqlite(token: str) -> str:
    if token[0] == '"':
        return token[1:-1].replace('""', '"')
    if token[0] in "`[":
        return token[1:-1]
    return token


_DROP_TABLE = re.compile(rf"DROP TABLE (?P<table>{_QUALIFIED})", re.S)
_DROP_INDEX = re.compile(rf"DROP INDEX (?P<index>{_QUALIFIED})", re.S)
_DROP_CONSTRAINT = re.compile(rf"ALTER TABLE (?P<table>{_QUALIFIED}) DROP CONSTRAINT (?P<constraint>{_IDENT})", re.S)
_ALTER_COLUMNS = re.compile(rf"ALTER TABLE (?P<table>{_QUALIFIED}) (?:DROP|ADD) COLUMN ", re.S)


def _postgres_inverse(statements: list[str], shape: PostgresShape, drops: list[tuple[str, str | None]],
                      qualify: str | None) -> list[str] | None:
    """PostgreSQL, in Prisma's format, newest statement first: creations dropped (as invert_additive
    does), and what a drop removed re-created from the catalog: a table with its columns, keys,
    indexes and foreign keys; a column with the indexes and constraints that went with it; an index;
    a constraint. Only for objects of the catalog's schema."""
    schema = _quote(shape.schema)
    statements = [_qualified(s, shape.schema) for s in statements]
    if any(_parts(m["name"])[0] != f"{schema}." for s in statements if (m := _OBJECT_NAME.match(s))):
        return None  # another schema: the rehearsal's catalog does not cover it
    created_tables = {m["table"] for s in statements if (m := _CREATE_TABLE.match(s))}
    dropped_indexes = {_bare(m["index"]) for s in statements if (m := _DROP_INDEX.fullmatch(s))}
    dropped_constraints = {(_bare(m["table"]), _bare(m["constraint"]))
                           for s in statements if (m := _DROP_CONSTRAINT.fullmatch(s))}
    blocks: list[str] = []
    for statement in reversed(statements):
        if match := _DROP_TABLE.fullmatch(statement):
            block = _recreate_table(shape, _bare(match["table"]), dropped_indexes, dropped_constraints)
        elif match := _DROP_INDEX.fullmatch(statement):
            index = shape.indexes.get(_bare(match["index"]))
            block = None if index is None or index.constraint else f"-- CreateIndex\n{index.definition};"
        elif match := _DROP_CONSTRAINT.fullmatch(statement):
            block = _add_constraint(shape, _bare(match["table"]), _bare(match["constraint"]))
        elif (match := _ALTER_COLUMNS.match(statement)) and " DROP COLUMN " in statement:
            block = _undo_column_changes(shape, _bare(match["table"]), _column_clauses(statement),
                                         dropped_indexes, dropped_constraints, drops)
        else:
            block = _inverse(statement, "postgresql", created_tables, drops)
        if block is None:
            return None
        if block:
            blocks.append(block)
    return blocks


def _in_schema(shape: PostgresShape, table: str) -> str:
    return f"{_quote(shape.schema)}.{_quote(table)}"


def _column_sql(name: str, column: PostgresColumn) -> str:
    return (f"{_quote(name)} {column.type}{' NOT NULL' if column.not_null else ''}"
            f"{f' DEFAULT {column.default}' if column.default is not None else ''}")


def _add_constraint(shape: PostgresShape, table: str, name: str) -> str | None:
    constraint = shape.constraints.get((table, name))
    if constraint is None:
        return None
    label = "AddForeignKey" if constraint.kind == "f" else "AlterTable"
    return f"-- {label}\nALTER TABLE {_in_schema(shape, table)} ADD CONSTRAINT {_quote(name)} {constraint.definition};"


def _recreate_table(shape: PostgresShape, table: str, dropped_indexes: set[str],
                    dropped_constraints: set[tuple[str, str]]) -> str | None:
    columns = shape.columns.get(table)
    if not columns or any(c.special for c in columns.values()):
        return None
    own = sorted(((name, c) for (t, name), c in shape.constraints.items() if t == table),
                 key=lambda item: (item[1].kind != "p", item[0]))
    lines = [f"    {_column_sql(name, column)}" for name, column in columns.items()]
    keys = [f"    CONSTRAINT {_quote(name)} {c.definition}" for name, c in own if c.kind != "f"]
    body = ",\n".join(lines) + (",\n\n" + ",\n".join(keys) if keys else "")
    blocks = [f"-- CreateTable\nCREATE TABLE {_in_schema(shape, table)} (\n{body}\n);"]
    blocks += [f"-- CreateIndex\n{index.definition};" for name, index in sorted(shape.indexes.items())
               if index.table == table and index.constraint is None and name not in dropped_indexes]
    for name, constraint in own:
        if constraint.kind == "f" and (table, name) not in dropped_constraints:
            blocks.append(_add_constraint(shape, table, name) or "")
    return "\n\n".join(blocks)


def _undo_column_changes(shape: PostgresShape, table: str, clauses: list[tuple[bool, str]] | None,
                         dropped_indexes: set[str], dropped_constraints: set[tuple[str, str]],
                         drops: list[tuple[str, str | None]]) -> str | None:
    """For `ALTER TABLE t DROP COLUMN a, ADD COLUMN b ...` (clauses: (dropped?, column)): DROP COLUMN
    for each added column, ADD COLUMN for each dropped one, then what PostgreSQL dropped with them
    (indexes and constraints that involved them and that the script did not drop itself)."""
    columns = shape.columns.get(table, {})
    if not clauses:
        return None
    names = [name for dropped, name in clauses if dropped]
    added = [name for dropped, name in clauses if not dropped]
    if any(n not in columns or columns[n].special for n in names):
        return None
    gone = set(names) | {"*"}
    if any(t == table and c.kind == "p" and c.columns & gone for (t, _), c in shape.constraints.items()):
        return None  # a primary key column: outside what this re-creates
    drops.extend((table, c) for c in added)
    changes = [f"DROP COLUMN {_quote(c)}" for c in added] + [f"ADD COLUMN     {_column_sql(n, columns[n])}"
                                                            for n in names]
    joined = ",\n".join(changes)
    blocks = [f"-- AlterTable\nALTER TABLE {_in_schema(shape, table)} {joined};"]
    blocks += [f"-- CreateIndex\n{index.definition};" for name, index in sorted(shape.indexes.items())
               if index.table == table and index.constraint is None and index.columns & gone
               and name not in dropped_indexes]
    for (t, name), constraint in sorted(shape.constraints.items()):
        if t == table and constraint.columns & gone and (t, name) not in dropped_constraints:
            blocks.append(_add_constraint(shape, t, name) or "")
    return "\n\n".join(blocks)


def _added_columns(statement: str) -> list[str] | None:
    """The column names of `ALTER TABLE t ADD COLUMN a ..., ADD COLUMN b ...`; None unless every
    clause is a plain ADD COLUMN."""
    clauses = _column_clauses(statement)
    if clauses is None or any(dropped for dropped, _ in clauses):
        return None
    return [name for _, name in clauses]


def _column_clauses(statement: str) -> list[tuple[bool, str]] | None:
    """(dropped?, column) for each clause of `ALTER TABLE t ADD COLUMN a ..., DROP COLUMN b`, read by
    PostgreSQL's own parser; None unless every clause is a plain ADD COLUMN or DROP COLUMN."""
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
    clauses: list[tuple[bool, str]] = []
    for command in node.cmds or ():
        if command.missing_ok:
            return None
        if command.subtype == enums.AlterTableType.AT_AddColumn:
            clauses.append((False, command.def_.colname))
        elif (command.subtype == enums.AlterTableType.AT_DropColumn
              and command.behavior == enums.DropBehavior.DROP_RESTRICT):
            clauses.append((True, command.name))
        else:
            return None
    return clauses


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


_OBJECT_NAME = re.compile(rf"^(CREATE TABLE |CREATE TYPE |ALTER TABLE |DROP TABLE |DROP INDEX "
                          rf"|CREATE (?:UNIQUE )?INDEX {_IDENT} ON )(?P<name>{_QUALIFIED})", re.S)


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
