"""The PostgreSQL analyzer: migration SQL read by pglast (PostgreSQL's own parser, libpg_query),
statement by statement. DO blocks are read through their PL/pgSQL body, and so is the body of a
function the migration calls (a function body that is only created runs nothing now).

pglast is imported inside functions: `faber-db status` must not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from faber_db.safety.column_types import type_change
from faber_db.safety.kinds import UNPARSED, Severity, data_loss_message
from faber_db.safety.model import Column, ObjectKey, RowCount, ToolWarnings
from faber_db.safety.postgres_dml import PostgresDml
from faber_db.safety.postgres_nodes import last_name, relname, walk_nodes
from faber_db.safety.statements import Stmt, postgres_comments, split_postgres


@dataclass(frozen=True)
class _Body:
    language: str
    source: str


class PostgresAnalyzer(PostgresDml):
    def __init__(self) -> None:
        super().__init__()
        self.functions: dict[str, _Body] = {}  # plpgsql and sql functions the history or plan creates
        self.calling: list[str] = []

    def _run(self, sql: str) -> None:
        self.warnings = ToolWarnings.read(postgres_comments(sql))
        for stmt in split_postgres(sql):
            self.statement(stmt)

    def statement(self, stmt: Stmt) -> None:
        from pglast import ast

        node = stmt.node
        if node is None:
            self.unparsed(stmt, stmt.error)
        elif isinstance(node, ast.DropdbStmt):
            self.add("drop_database", "critical", stmt.line, stmt.text, None,
                     f'Drops the whole database "{node.dbname}"{self.suffix()}')
        elif isinstance(node, ast.DropStmt):
            self._drop(stmt, node)
        elif isinstance(node, ast.TruncateStmt):
            for rel in node.relations or ():
                self.add("truncate", "high", stmt.line, stmt.text, rel.relname,
                         f'Deletes every row of "{rel.relname}"{self.suffix()}', count=self.count_of(rel))
        elif isinstance(node, (ast.DeleteStmt, ast.UpdateStmt, ast.MergeStmt)):
            self.pg_dml(stmt, node)
            self._calls(stmt, node)
        elif isinstance(node, (ast.SelectStmt, ast.InsertStmt, ast.CallStmt)):
            self.pg_with(stmt, node)
            self._calls(stmt, node)
        elif isinstance(node, ast.DoStmt):
            self._do(stmt, node)
        elif isinstance(node, (ast.AlterTableStmt, ast.RenameStmt, ast.AlterEnumStmt, ast.IndexStmt)):
            self._alter(stmt, node)
        else:
            self._create(node)

    # --- creations -------------------------------------------------------------------------------

    def _create(self, node: Any) -> None:
        from pglast import ast, enums

        if isinstance(node, ast.CreateStmt):
            self.create_table(relname(node.relation), self._pg_columns(node.tableElts))
        elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None and node.into.rel is not None:
            name = relname(node.into.rel)
            if node.objtype == enums.ObjectType.OBJECT_MATVIEW:
                self.note_created(("materialized view", name))
            else:
                self.create_table(name, {})
                self.tables[name].known = False
        elif isinstance(node, ast.ViewStmt):
            self.note_created(("view", relname(node.view)))
        elif isinstance(node, ast.CreateFunctionStmt):
            self._record_function(node)
        elif isinstance(node, ast.CreateTrigStmt):
            self.note_created(("trigger", f"{node.trigname} on {relname(node.relation)}"))
        elif isinstance(node, (ast.CreateEnumStmt, ast.CreateRangeStmt)):
            self.note_created(("type", last_name(node.typeName)))
        elif isinstance(node, ast.CompositeTypeStmt):
            self.note_created(("type", relname(node.typevar)))
        elif isinstance(node, ast.CreateDomainStmt):
            self.note_created(("type", last_name(node.domainname)))
        elif isinstance(node, ast.CreateExtensionStmt):
            self.note_created(("extension", str(node.extname)))

    def _pg_columns(self, elements: Any) -> dict[str, Column]:
        from pglast import ast

        columns: dict[str, Column] = {}
        for element in elements or ():
            if isinstance(element, ast.ColumnDef) and element.colname:
                columns[element.colname] = self._pg_column(element)
        return columns

    def _pg_column(self, column: Any) -> Column:
        from pglast import ast, enums

        type_text = _pg_type_text(column.typeName)
        serial = type_text.lower() in ("serial", "bigserial", "smallserial", "serial2", "serial4", "serial8")
        result = Column(type_text, bool(column.is_not_null), column.raw_default is not None or serial)
        for constraint in column.constraints or ():
            if not isinstance(constraint, ast.Constraint):
                continue
            if constraint.contype in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_PRIMARY):
                result.not_null = True
            elif constraint.contype in (enums.ConstrType.CONSTR_DEFAULT, enums.ConstrType.CONSTR_IDENTITY,
                                        enums.ConstrType.CONSTR_GENERATED):
                result.has_default = True
        return result

    # --- drops -----------------------------------------------------------------------------------

    def _drop(self, stmt: Stmt, node: Any) -> None:
        from pglast import ast, enums

        kind = node.removeType
        objects = enums.ObjectType
        cascade = node.behavior == enums.DropBehavior.DROP_CASCADE
        line, text = stmt.line, stmt.text
        if kind == objects.OBJECT_SCHEMA:
            for obj in node.objects or ():
                name = obj.sval if isinstance(obj, ast.String) else str(obj)
                self.add("drop_schema", "critical", line, text, None,
                         f'Drops schema "{name}" and {"everything in it" if cascade else "it"}{self.suffix()}')
        elif kind == objects.OBJECT_TABLE:
            for obj in node.objects or ():
                table = last_name(obj)
                self.add("drop_table", "high", line, text, table, data_loss_message(table) + self.suffix(),
                         count=self.count_of(_range_var(obj)))
                self.drop_table(table)
        elif kind == objects.OBJECT_INDEX:
            for obj in node.objects or ():
                self.unique_indexes.discard(last_name(obj))
        elif kind.name in _DROPPED:
            finding_kind, what = _DROPPED[kind.name]
            for obj in node.objects or ():
                # a materialized view stores rows: they are counted (from the stored relation, no query runs)
                stored = self.count_of(_range_var(obj)) if what == "materialized view" else None
                self._drop_object(stmt, finding_kind, what, _dropped_name(obj, trigger=what == "trigger"), cascade,
                                  stored)

    def _drop_object(self, stmt: Stmt, finding_kind: str, what: str, name: str, cascade: bool,
                     stored: RowCount | None) -> None:
        key: ObjectKey = (what, name)
        severity: Severity = "medium"
        if what == "view":
            message = f'Drops view "{name}": code and views that read it break'
            if cascade:
                message += " (CASCADE also drops the views built on it)"
        elif what == "materialized view":
            message = f'Drops materialized view "{name}" and the rows it stores (recomputed only by re-creating it)'
        elif what == "function":
            message = f'Drops function "{name}": triggers, defaults and code that call it break'
            if cascade:
                severity = "high"
                message += ("; CASCADE also drops what uses it: triggers, defaults, indexes, generated columns "
                            "(with their data)")
        elif what == "trigger":
            trigger, _, table = name.partition(" on ")
            message = f'Drops trigger "{trigger}" on "{table}": what it did on each write stops'
        elif what == "type":
            message = f'Drops type "{name}": code and casts that name it break (it fails while a column uses it)'
            if cascade:
                severity = "high"
                message = f'Drops type "{name}" with CASCADE: every column of this type is dropped with its data'
        else:
            message = (f'Drops extension "{name}": its functions, types and operators go away (it fails while '
                       "something uses them)")
            if cascade:
                severity = "high"
                message = (f'Drops extension "{name}" with CASCADE: columns of its types and indexes on its '
                           "operators are dropped with their data")
        replaced = self.replaced.get(key)
        if replaced is not None and not cascade:
            severity = "low"
            message += f' (the {what} this same migration replaced: "{replaced}" is now a new {what})'
        finding = self.add(finding_kind, severity, stmt.line, stmt.text, name if stored else None,
                           message + self.suffix(), subject=key, count=stored)
        if not cascade:
            self.may_be_redefined(finding, key)
        self.note_dropped(key)
        if what == "function":
            self.functions.pop(name, None)

    # --- ALTER and RENAME --------------------------------------------------------------------------

    def _alter(self, stmt: Stmt, node: Any) -> None:
        from pglast import ast, enums

        if isinstance(node, ast.AlterTableStmt):
            if node.objtype == enums.ObjectType.OBJECT_TABLE and node.relation is not None:
                self._pg_alter_table(node, stmt.line, stmt.text)
        elif isinstance(node, ast.RenameStmt):
            self._pg_rename(node, stmt.line, stmt.text)
        elif isinstance(node, ast.AlterEnumStmt):
            if node.oldVal is not None:
                name = last_name(node.typeName)
                self.add("rename", "medium", stmt.line, stmt.text, None,
                         f"Renames value '{node.oldVal}' of enum \"{name}\" to '{node.newVal}': rows keep their "
                         f"value under the new name; code that writes or compares the old one breaks{self.suffix()}",
                         subject=("type", name))
        elif isinstance(node, ast.IndexStmt):
            table = relname(node.relation)
            created = self.created_here(("table", table)) or self.created_here(("materialized view", table))
            if node.unique and not created and node.idxname not in self.unique_indexes:
                names = [e.name or "(expression)" for e in node.indexParams or ()]
                self.add("add_unique", "medium", stmt.line, stmt.text, table,
                         f'Adds a unique index on "{table}" ({", ".join(names)}); existing duplicate values '
                         f"make it fail{self.suffix()}", column=_only(names))
            if node.unique and node.idxname:
                self.unique_indexes.add(node.idxname)

    def _pg_alter_table(self, node: Any, line: int, text: str) -> None:
        from pglast import ast, enums

        table = relname(node.relation)
        types = enums.AlterTableType
        cmds: list[Any] = [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
        defaults = {c.name for c in cmds if c.subtype == types.AT_ColumnDefault and c.def_ is not None}
        known = self.table(table)
        suffix = self.suffix()
        for cmd in cmds:
            if cmd.subtype == types.AT_DropColumn:
                self.add("drop_column", "high", line, text, table, data_loss_message(table, cmd.name) + suffix,
                         column=cmd.name, count=self.count_of(node.relation))
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
                self.add("alter_column_type", severity, line, text, table,
                         f'Column "{cmd.name}" of "{table}": {why}{suffix}', column=cmd.name,
                         count=self.count_of(node.relation))
                if column is not None:
                    column.type = new
                elif known.known:
                    known.columns[cmd.name] = Column(new)
            elif cmd.subtype == types.AT_SetNotNull:
                if cmd.name in defaults:
                    self.add("set_not_null", "low", line, text, table,
                             f'Column "{cmd.name}" of "{table}" becomes NOT NULL with a DEFAULT in the same '
                             f"statement (existing NULLs still make it fail){suffix}", column=cmd.name,
                             count=self.count_of(node.relation))
                else:
                    self.add("set_not_null", "medium", line, text, table,
                             f'Column "{cmd.name}" of "{table}" becomes NOT NULL without a default: '
                             f"existing NULL values make the migration fail{suffix}", column=cmd.name,
                             count=self.count_of(node.relation))
                if cmd.name in known.columns:
                    known.columns[cmd.name].not_null = True
            elif cmd.subtype == types.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef) and cmd.def_.colname:
                column = self._pg_column(cmd.def_)
                if column.not_null and not column.has_default:
                    self.add("set_not_null", "medium", line, text, table,
                             f'Adds column "{cmd.def_.colname}" to "{table}" as NOT NULL without a default: the '
                             f"migration fails if the table has any row{suffix}", column=cmd.def_.colname,
                             count=self.count_of(node.relation))
                self.add_column(table, cmd.def_.colname, column)
            elif cmd.subtype == types.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                constraint = cmd.def_
                keyed = constraint.contype in (enums.ConstrType.CONSTR_UNIQUE, enums.ConstrType.CONSTR_PRIMARY)
                if keyed and not self.created_here(("table", table)):
                    if constraint.indexname and constraint.indexname in self.unique_indexes:
                        continue  # ADD CONSTRAINT ... USING INDEX: the index was already checked
                    names = [k.sval for k in constraint.keys or ()]
                    what = ("a primary key" if constraint.contype == enums.ConstrType.CONSTR_PRIMARY
                            else "a unique constraint")
                    self.add("add_unique", "medium", line, text, table,
                             f'Adds {what} on "{table}" ({", ".join(names)}); existing duplicates '
                             f"make it fail{suffix}", column=_only(names), count=self.count_of(node.relation))
                if constraint.conname and keyed:
                    self.unique_indexes.add(constraint.conname)

    def _pg_rename(self, node: Any, line: int, text: str) -> None:
        from pglast import enums

        objects = enums.ObjectType
        kind = node.renameType
        new, suffix = node.newname, self.suffix()
        breaks = "code still using the old name breaks"
        if kind == objects.OBJECT_TABLE and node.relation is not None:
            old = relname(node.relation)
            self.add("rename", "medium", line, text, old, f'Renames table "{old}" to "{new}": {breaks}{suffix}',
                     count=self.count_of(node.relation))
            self.rename_table(old, new)
        elif kind == objects.OBJECT_COLUMN and node.relation is not None:
            table = relname(node.relation)
            self.add("rename", "medium", line, text, table,
                     f'Renames column "{node.subname}" of "{table}" to "{new}": {breaks}{suffix}',
                     column=node.subname, count=self.count_of(node.relation))
            known = self.table(table)
            if node.subname in known.columns:
                known.columns[new] = known.columns.pop(node.subname)
            if (table, node.subname) in self.added_columns:
                self.added_columns.add((table, new))
        elif kind == objects.OBJECT_TABCONSTRAINT and node.relation is not None:
            table = relname(node.relation)
            self.add("rename", "medium", line, text, table,
                     f'Renames constraint "{node.subname}" of "{table}" to "{new}": code that names it (ON CONFLICT '
                     f"ON CONSTRAINT, error handling) breaks{suffix}", count=self.count_of(node.relation))
            if node.subname in self.unique_indexes:
                self.unique_indexes.add(new)
        elif kind == objects.OBJECT_INDEX:
            if node.relation is not None and relname(node.relation) in self.unique_indexes:
                self.unique_indexes.add(new)
        elif kind.name in _RENAMED:
            what = _RENAMED[kind.name]
            if kind in (objects.OBJECT_VIEW, objects.OBJECT_MATVIEW):
                old = relname(node.relation)
            elif kind == objects.OBJECT_SCHEMA:
                old = node.subname
            elif kind in (objects.OBJECT_FUNCTION, objects.OBJECT_PROCEDURE, objects.OBJECT_ROUTINE):
                old = last_name(node.object.objname)
                if old in self.functions:
                    self.functions[new] = self.functions.pop(old)
            else:
                old = last_name(node.object)
            key: ObjectKey = (what, old)
            finding = self.add("rename", "medium", line, text, None,
                               f'Renames {what} "{old}" to "{new}": {breaks}{suffix}', subject=key)
            self.may_be_redefined(finding, key, renamed_to=(what, new))
            self.note_renamed(key, (what, new))

    # --- PL/pgSQL: DO blocks and called functions ---------------------------------------------------

    def _do(self, stmt: Stmt, node: Any) -> None:
        """A DO block runs now: analyze the SQL statements of its body one by one, each on its own line."""
        body: str | None = None
        language = "plpgsql"
        body_line = stmt.line
        for arg in node.args or ():
            if arg.defname == "as":
                body = arg.arg.sval
                location = getattr(arg, "arg_location", None)  # pglast 7+
                if location is not None:
                    body_line = stmt.line_at(location)  # the line of the opening $$ or $tag$
            elif arg.defname == "language":
                language = arg.arg.sval.lower()
        if body is None or language != "plpgsql":
            self.unparsed(stmt, f"DO block in language {language}")
            return
        self.inside.append(" (inside a DO block)")
        try:
            self._plpgsql(stmt, body, "DO block body", body_line)
        finally:
            self.inside.pop()

    def _record_function(self, node: Any) -> None:
        name = last_name(node.funcname)
        language, source = "sql", None
        for option in node.options or ():
            if option.defname == "language":
                language = option.arg.sval.lower()
            elif option.defname == "as":
                parts = option.arg if isinstance(option.arg, tuple) else (option.arg,)
                source = getattr(parts[0], "sval", None) if len(parts) == 1 else None  # C functions: (lib, symbol)
        if source is not None and language in ("plpgsql", "sql"):
            self.functions[name] = _Body(language, source)
        else:
            self.functions.pop(name, None)
        self.note_created(("function", name))

    def _calls(self, stmt: Stmt, node: Any) -> None:
        """A statement that calls a function this history defines runs that function's body now."""
        from pglast import ast

        for call in walk_nodes(node):
            if not isinstance(call, ast.FuncCall):
                continue
            name = last_name(call.funcname)
            body = self.functions.get(name)
            if body is None or name in self.calling:
                continue
            self.calling.append(name)
            self.inside.append(f" (inside {name}(), which this statement calls)")
            try:
                if body.language == "plpgsql":
                    self._plpgsql(stmt, body.source, f"body of {name}()", None)
                else:
                    self._sql_body(stmt, body.source, name)
            finally:
                self.inside.pop()
                self.calling.pop()

    def _sql_body(self, stmt: Stmt, source: str, name: str) -> None:
        import pglast

        try:
            parsed = pglast.parse_sql(source)
        except pglast.parser.ParseError as exc:
            self.add(UNPARSED, "medium", stmt.line, stmt.text, None,
                     f"The body of {name}(), which this statement calls, could not be analyzed ({exc})")
            return
        for inner in _inner_statements(source, parsed, stmt.line, lines_of_text=False):
            self.statement(inner)

    def _plpgsql(self, stmt: Stmt, body: str, what: str, body_line: int | None) -> None:
        """The SQL statements of a PL/pgSQL body, each on its line of the file (the body starts on
        `body_line`), or all on the statement's line (`body_line` None: a called function's body)."""
        import pglast

        source = f"CREATE FUNCTION faber_db_do() RETURNS void AS $faber_db${body}$faber_db$ LANGUAGE plpgsql"
        try:
            tree = pglast.parse_plpgsql(source)
        except Exception as exc:  # pglast raises its ParseError; nothing else is expected
            self.unparsed(stmt, f"{what}: {exc}")
            return
        for kind, lineno, query, looping in _plpgsql_statements(tree):
            line = stmt.line if body_line is None else body_line + max(lineno - 1, 0)
            if kind == "dynamic":
                constant = _constant_text(query)
                if constant is None:
                    self.add(UNPARSED, "medium", line, stmt.text, None,
                             f"The {what} runs dynamic SQL (EXECUTE {query[:80]}) that cannot be analyzed; "
                             "review it by hand")
                    continue
                query = constant
            try:
                parsed = pglast.parse_sql(query)
            except pglast.parser.ParseError as exc:
                self.add(UNPARSED, "medium", line, query, None,
                         f"A statement in the {what} could not be analyzed ({exc})")
                continue
            outer, self.looping = self.looping, self.looping or looping
            try:
                for inner in _inner_statements(query, parsed, line, lines_of_text=body_line is not None):
                    self.statement(inner)
            finally:
                self.looping = outer

    def count_of(self, relation: Any) -> RowCount | None:
        """How to count the rows of the table `relation` names (a RangeVar)."""
        return self.count(relation) if relation is not None else None


# pglast ObjectType names -> what the analysis calls the object (and the kind of finding a DROP is)
_RENAMED = {
    "OBJECT_TYPE": "type", "OBJECT_DOMAIN": "type", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "materialized view",
    "OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "function", "OBJECT_ROUTINE": "function",
    "OBJECT_SCHEMA": "schema",
}
_DROPPED = {
    "OBJECT_VIEW": ("drop_view", "view"), "OBJECT_MATVIEW": ("drop_materialized_view", "materialized view"),
    "OBJECT_FUNCTION": ("drop_function", "function"), "OBJECT_PROCEDURE": ("drop_function", "function"),
    "OBJECT_ROUTINE": ("drop_function", "function"), "OBJECT_TRIGGER": ("drop_trigger", "trigger"),
    "OBJECT_TYPE": ("drop_type", "type"), "OBJECT_DOMAIN": ("drop_type", "type"),
    "OBJECT_EXTENSION": ("drop_extension", "extension"),
}


def _dropped_name(obj: Any, *, trigger: bool) -> str:
    from pglast import ast

    if isinstance(obj, ast.ObjectWithArgs):
        return last_name(obj.objname)
    if isinstance(obj, ast.TypeName):
        return last_name(obj.names)
    if isinstance(obj, ast.String):
        return str(obj.sval)
    if trigger:  # (schema?, table, trigger)
        parts = [getattr(p, "sval", "?") for p in obj]
        return f"{parts[-1]} on {parts[-2] if len(parts) > 1 else '?'}"
    return last_name(obj)


def _range_var(names: Any) -> Any:
    """A RangeVar for a DROP TABLE's qualified name (a tuple of String nodes)."""
    from pglast import ast

    parts = [getattr(part, "sval", "?") for part in names or ()]
    if not parts:
        return None
    return ast.RangeVar(relname=parts[-1], schemaname=parts[-2] if len(parts) > 1 else None, inh=True,
                        relpersistence="p")


def _inner_statements(text: str, parsed: Any, line: int, *, lines_of_text: bool = True) -> Iterator[Stmt]:
    """The statements pglast parsed from `text` (a DO block's statement, an EXECUTE's constant, a
    called function's body). `text` starts on file line `line`; `lines_of_text` False: every
    statement is reported on `line` (a function body's lines are not lines of the migration)."""
    for raw in parsed:
        begin = raw.stmt_location or 0
        end = begin + raw.stmt_len if raw.stmt_len else len(text)
        piece = text[begin:end]
        start = begin + len(piece) - len(piece.lstrip())
        here = line + text.count("\n", 0, start) if lines_of_text else line
        yield Stmt(piece.strip(), start, end, here, raw.stmt)


def _constant_text(expression: str) -> str | None:
    """The text of an EXECUTE whose argument is one string constant (`EXECUTE 'DROP TABLE x'`)."""
    import pglast
    from pglast import ast

    try:
        parsed = pglast.parse_sql(f"SELECT {expression}")
    except pglast.parser.ParseError:
        return None
    select = parsed[0].stmt if len(parsed) == 1 else None
    targets: tuple[Any, ...] = getattr(select, "targetList", None) or ()
    if len(targets) == 1 and isinstance(targets[0].val, ast.A_Const) and isinstance(targets[0].val.val, ast.String):
        return str(targets[0].val.val.sval)
    return None


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


_DYNAMIC_KEYS = ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors")
# statements whose "body" runs again and again
_LOOPS = ("PLpgSQL_stmt_loop", "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors",
          "PLpgSQL_stmt_forc", "PLpgSQL_stmt_foreach_a", "PLpgSQL_stmt_dynfors")


def _plpgsql_statements(tree: Any, lineno: int = 1, looping: bool = False) -> Iterator[tuple[str, int, str, bool]]:
    """("sql" | "dynamic", lineno, query, in a loop) for each SQL statement a PL/pgSQL body runs:
    every statement-mode expression (plain SQL, PERFORM, FOR ... IN query, RETURN QUERY) and
    every EXECUTE, in body order."""
    if isinstance(tree, list):
        for item in tree:
            yield from _plpgsql_statements(item, lineno, looping)
        return
    if not isinstance(tree, dict):
        return
    lineno = int(tree.get("lineno", lineno))
    for key, value in tree.items():
        if key == "PLpgSQL_expr" and isinstance(value, dict):
            if value.get("parseMode", 0) == 0 and value.get("query"):
                yield "sql", lineno, str(value["query"]), looping
            continue
        if key in _DYNAMIC_KEYS and isinstance(value, dict):
            inner_line = int(value.get("lineno", lineno))
            query = value.get("query", {}).get("PLpgSQL_expr", {}).get("query", "")
            yield "dynamic", inner_line, str(query), looping
        if key in ("dynquery",) and isinstance(value, dict):
            yield "dynamic", lineno, str(value.get("PLpgSQL_expr", {}).get("query", "")), looping
            continue
        if key in _LOOPS and isinstance(value, dict):
            inner_line = int(value.get("lineno", lineno))
            # the loop's own query runs once, first; its body again and again
            for part, content in sorted(value.items(), key=lambda item: item[0] == "body"):
                if part != "query" or key not in _DYNAMIC_KEYS:
                    yield from _plpgsql_statements({part: content}, inner_line, looping or part == "body")
            continue
        yield from _plpgsql_statements(value, lineno, looping)
