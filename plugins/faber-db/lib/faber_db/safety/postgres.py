"""The PostgreSQL analyzer: migration SQL read by pglast (PostgreSQL's own parser, libpg_query),
statement by statement, DO blocks through their PL/pgSQL body.

pglast is imported inside functions: `faber-db status` must not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from faber_db.safety.column_types import type_change
from faber_db.safety.kinds import UNPARSED, data_loss_message
from faber_db.safety.model import Analyzer, Column, PrismaWarnings, Table
from faber_db.safety.statements import Stmt, postgres_comments, split_postgres


class PostgresAnalyzer(Analyzer):
    def _run(self, sql: str) -> None:
        self.warnings = PrismaWarnings.read(postgres_comments(sql))
        for stmt in split_postgres(sql):
            self._postgres(stmt, stmt.node, stmt.line, stmt.text)

    def _postgres(self, stmt: Stmt, node: Any, line: int, text: str) -> None:
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
                table = relname(node.relation)
                self.add("delete_without_where", "high", line, text, table,
                         f'DELETE without WHERE removes every row of "{table}"')
        elif isinstance(node, ast.UpdateStmt):
            if node.whereClause is None:
                table = relname(node.relation)
                self.add("update_without_where", "high", line, text, table,
                         f'UPDATE without WHERE overwrites every row of "{table}"')
        elif isinstance(node, ast.CreateStmt):
            self.create_table(relname(node.relation), self._pg_columns(node.tableElts))
        elif isinstance(node, ast.CreateTableAsStmt):
            target = node.into.rel.relname if node.into is not None and node.into.rel is not None else None
            if target:
                self.tables[target] = Table(known=False)
                self.created.add(target)
        elif isinstance(node, ast.IndexStmt):
            table = relname(node.relation)
            if node.unique and self.exists(table) and node.idxname not in self.unique_indexes:
                names = [e.name or "(expression)" for e in node.indexParams or ()]
                self.add("add_unique", "medium", line, text, table,
                         f'Adds a unique index on "{table}" ({", ".join(names)}); existing duplicate values '
                         "make it fail", column=_only(names))
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
                table = last_name(obj)
                self.add("drop_table", "high", line, text, table, data_loss_message(table))
                self.drop_table(table)
        elif kind == enums.ObjectType.OBJECT_INDEX:
            for obj in node.objects or ():
                self.unique_indexes.discard(last_name(obj))

    def _pg_columns(self, elements: Any) -> dict[str, Column]:
        from pglast import ast

        columns: dict[str, Column] = {}
        for element in elements or ():
            if isinstance(element, ast.ColumnDef) and element.colname:
                columns[element.colname] = self._pg_column(element)
        return columns

    def _pg_column(self, column: Any) -> Column:
        from pglast import ast, enums

        result = Column(_pg_type_text(column.typeName), bool(column.is_not_null), column.raw_default is not None)
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

        table = relname(node.relation)
        types = enums.AlterTableType
        cmds: list[Any] = [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
        defaults = {c.name for c in cmds if c.subtype == types.AT_ColumnDefault and c.def_ is not None}
        known = self.table(table)
        for cmd in cmds:
            if cmd.subtype == types.AT_DropColumn:
                self.add("drop_column", "high", line, text, table, data_loss_message(table, cmd.name),
                         column=cmd.name)
                known.columns.pop(cmd.name, None)
            elif cmd.subtype == types.AT_AlterColumnType:
                column = known.columns.get(cmd.name)
                old = column.type if column is not None else None
                hint = self.warnings.casts.get((table, cmd.name))
                if old is None and hint is not None:
                    old = hint[0]
                new = _pg_type_text(cmd.def_.typeName if cmd.def_ is not None else None)
                using = cmd.def_ is not None and cmd.def_.raw_default is not None
                severity, why = type_change(old, new, using=using)
                self.add("alter_column_type", severity, line, text, table, f'Column "{cmd.name}" of "{table}": {why}',
                         column=cmd.name)
                if column is not None:
                    column.type = new
                elif known.known:
                    known.columns[cmd.name] = Column(new)
            elif cmd.subtype == types.AT_SetNotNull:
                if cmd.name in defaults:
                    self.add("set_not_null", "low", line, text, table,
                             f'Column "{cmd.name}" of "{table}" becomes NOT NULL with a DEFAULT in the same '
                             "statement (existing NULLs still make it fail)", column=cmd.name)
                else:
                    self.add("set_not_null", "medium", line, text, table,
                             f'Column "{cmd.name}" of "{table}" becomes NOT NULL without a default: '
                             "existing NULL values make the migration fail", column=cmd.name)
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
                    names = [k.sval for k in constraint.keys or ()]
                    self.add("add_unique", "medium", line, text, table,
                             f'Adds a unique constraint on "{table}" ({", ".join(names)}); existing duplicates '
                             "make it fail", column=_only(names))
                if constraint.conname and constraint.contype == enums.ConstrType.CONSTR_UNIQUE:
                    self.unique_indexes.add(constraint.conname)

    def _pg_rename(self, node: Any, line: int, text: str) -> None:
        from pglast import enums

        objects = enums.ObjectType
        if node.renameType == objects.OBJECT_TABLE and node.relation is not None:
            old = relname(node.relation)
            self.add("rename", "medium", line, text, old,
                     f'Renames table "{old}" to "{node.newname}": code still using the old name breaks')
            self.rename_table(old, node.newname)
        elif node.renameType == objects.OBJECT_COLUMN and node.relation is not None:
            table = relname(node.relation)
            self.add("rename", "medium", line, text, table,
                     f'Renames column "{node.subname}" of "{table}" to "{node.newname}": '
                     "code still using the old name breaks", column=node.subname)
            known = self.table(table)
            if node.subname in known.columns:
                known.columns[node.newname] = known.columns.pop(node.subname)
        elif node.renameType in (objects.OBJECT_INDEX, objects.OBJECT_TABCONSTRAINT) and node.subname:
            if node.subname in self.unique_indexes:
                self.unique_indexes.add(node.newname)
        elif (
            node.renameType == objects.OBJECT_INDEX
            and node.relation is not None
            and relname(node.relation) in self.unique_indexes
        ):
            self.unique_indexes.add(node.newname)

    def _pg_do(self, stmt: Stmt, node: Any, line: int) -> None:
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
                inner = Stmt(query.strip(), stmt.start, stmt.end, inner_line, raw.stmt)
                self._postgres(inner, raw.stmt, inner_line, query.strip())


def _only(names: list[str]) -> str | None:
    """The column a one-column index or constraint is on (None for several or an expression)."""
    return names[0] if len(names) == 1 and names[0] != "(expression)" else None


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


def relname(relation: Any) -> str:
    return str(getattr(relation, "relname", None) or "?")


def last_name(names: Any) -> str:
    """The last part of a qualified pglast name (a tuple of String nodes)."""
    parts = [getattr(part, "sval", None) for part in names or ()]
    strings = [p for p in parts if isinstance(p, str)]
    return strings[-1] if strings else "?"


def statement_table(node: Any) -> str | None:
    """The table a PostgreSQL statement mainly touches (for lint findings)."""
    if node is None:
        return None
    relation = getattr(node, "relation", None)
    relname = getattr(relation, "relname", None)
    return str(relname) if relname else None

def walk_nodes(node: Any) -> Iterator[Any]:
    from pglast import ast

    if node is None:
        return
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from walk_nodes(item)
        return
    if not isinstance(node, ast.Node):
        return
    yield node
    for name in node:
        yield from walk_nodes(getattr(node, name))
