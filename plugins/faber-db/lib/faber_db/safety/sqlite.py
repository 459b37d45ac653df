"""The SQLite analyzer: migration SQL read by sqlglot (dialect `sqlite`), including the
"redefine table" pattern migration tools generate (CREATE new_T; INSERT INTO new_T SELECT ... FROM T; DROP T; RENAME
new_T TO T), reported as what the copy loses (columns, values, rows its SELECT leaves out)
rather than as a drop and a rename. Types are SQLite's own: declared type names as written, and
type affinity for what a change does to the values.

Counting SQL is cut out of the statement's own text (sqlglot's tokens give exact positions), not
regenerated from the parse tree: the count runs exactly the WHERE the migration will run.

sqlglot is imported inside functions: `faber-db status` must not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faber_db.safety.column_types import sqlite_type_change, type_change
from faber_db.safety.kinds import TABLE_REBUILD, Severity, data_loss_message
from faber_db.safety.model import Analyzer, Column, RowCount, Table, ToolWarnings
from faber_db.safety.rows import sqlite_count
from faber_db.safety.statements import Stmt, split_sqlite


class SqliteAnalyzer(Analyzer):
    """`dialect`: sqlglot's dialect of the SQL (sqlite; mysql reads the same way)."""

    def __init__(self, dialect: str) -> None:
        super().__init__()
        self.dialect = dialect

    def _run(self, sql: str) -> None:
        statements, comments = split_sqlite(sql, self.dialect)
        self.warnings = ToolWarnings.read(comments)
        redefinitions = _find_redefinitions(statements)
        skip = {index for r in redefinitions.values() for index in r.indexes}
        for index, stmt in enumerate(statements):
            if index in redefinitions:
                self._redefinition(statements, redefinitions[index])
            if index not in skip:
                self._statement(stmt)

    def count(self, table: str, matching: str | None = None, *, why_not: str | None = None,
              bound: str | None = None) -> RowCount:
        return RowCount(f"SELECT count(*) FROM {_quote(self.db_name(table))}", sqlite_count, matching, why_not, bound)

    def _statement(self, stmt: Stmt) -> None:
        from sqlglot import exp

        node = stmt.node
        line, text = stmt.line, stmt.text
        if node is None:
            self.unparsed(stmt, stmt.error)
        elif isinstance(node, str):  # PRAGMA, BEGIN ... or a trigger (its body runs on later writes)
            if node == "trigger" and stmt.name:
                self.note_created(("trigger", stmt.name))
        elif isinstance(node, exp.Drop):
            self._drop(stmt, node)
        elif isinstance(node, exp.Delete):
            table = _table_name(node.this) or "?"
            if node.args.get("where") is None:
                self.add("delete_without_where", "high", line, text, table,
                         f'DELETE without WHERE removes every row of "{table}"', count=self.count(table))
            else:
                matching, why_not = _dml_count(text, self.dialect)
                self.add("delete_where", "medium", line, text, table,
                         f'DELETE removes the rows of "{table}" its WHERE matches',
                         count=self.count(table, matching, why_not=why_not))
        elif isinstance(node, exp.Update):
            self._update(stmt, node)
        elif isinstance(node, exp.TruncateTable):
            for target in node.expressions:
                table = _table_name(target) or "?"
                self.add("truncate", "high", line, text, table, f'Deletes every row of "{table}"',
                         count=self.count(table))
        elif isinstance(node, exp.Create):
            self._create(stmt, node)
        elif isinstance(node, exp.Alter):
            self._alter(stmt, node)

    def _create(self, stmt: Stmt, node: Any) -> None:
        from sqlglot import exp

        kind = str(node.args.get("kind") or "").upper()
        if kind == "TABLE":
            name = _table_name(node.this)
            if name:
                self.create_table(name, _sqlite_columns(stmt, self.dialect))
        elif kind == "VIEW":
            name = _table_name(node.this)
            if name:
                self.note_created(("view", name))
        elif kind == "INDEX" and node.args.get("unique"):
            index = node.this
            table = _table_name(index.args.get("table")) if isinstance(index, exp.Index) else None
            name = index.name if isinstance(index, exp.Index) else ""
            if table and not self.created_here(("table", table)) and name not in self.unique_indexes:
                if (table in self.redefined and self.warnings.present
                        and table not in self.warnings.unique_added):
                    self.add("add_unique", "low", stmt.line, stmt.text, table,
                             f'Re-creates unique index "{name}" on redefined "{table}" (the migration\'s '
                             "warnings list no new unique constraint)", column=_index_column(index))
                else:
                    self.add("add_unique", "medium", stmt.line, stmt.text, table,
                             f'Adds a unique index on "{table}"; existing duplicate values make it fail',
                             column=_index_column(index), count=self.count(table))
            if name:
                self.unique_indexes.add(name)

    def _drop(self, stmt: Stmt, node: Any) -> None:
        kind = str(node.args.get("kind") or "").upper()
        line, text = stmt.line, stmt.text
        for obj in _drop_targets(node):
            if kind == "TABLE":
                self.add("drop_table", "high", line, text, obj, data_loss_message(obj), count=self.count(obj))
                self.drop_table(obj)
            elif kind == "DATABASE":
                self.add("drop_database", "critical", line, text, None, f'Drops the whole database "{obj}"')
            elif kind == "SCHEMA":
                self.add("drop_schema", "critical", line, text, None, f'Drops schema "{obj}"')
            elif kind == "INDEX":
                self.unique_indexes.discard(obj)
            elif kind in ("VIEW", "TRIGGER"):
                what = kind.lower()
                message = (f'Drops view "{obj}": code and views that read it break' if what == "view"
                           else f'Drops trigger "{obj}": what it did on each write stops')
                finding = self.add(f"drop_{what}", "medium", line, text, None, message, subject=(what, obj))
                self.may_be_redefined(finding, (what, obj))
                self.note_dropped((what, obj))

    def _update(self, stmt: Stmt, node: Any) -> None:
        from sqlglot import exp

        table = _table_name(node.this) or "?"
        targets = list(dict.fromkeys(e.this.name for e in node.expressions
                                     if isinstance(e, exp.EQ) and isinstance(e.this, exp.Column)))
        names = ", ".join(f'"{t}"' for t in targets)
        columns = f"column {names}" if len(targets) == 1 else f"columns {names}"
        column = targets[0] if len(targets) == 1 else None
        where = node.args.get("where")
        severity: Severity = "high" if where is None else "medium"
        why = ""
        if self.overwrites_nothing(table, targets):
            severity, why = "low", "; it sets only columns this same migration adds, so no value is lost"
        if where is None:
            self.add("update_without_where", severity, stmt.line, stmt.text, table,
                     f'UPDATE without WHERE overwrites {columns} in every row of "{table}"{why}', column=column,
                     count=self.count(table))
            return
        matching, why_not = _dml_count(stmt.text, self.dialect)
        matched = ("its WHERE and its FROM join match" if node.args.get("from_") or node.args.get("from")
                   else "its WHERE matches")
        self.add("update_where", severity, stmt.line, stmt.text, table,
                 f'UPDATE overwrites {columns} of "{table}" in the rows {matched}{why}',
                 column=column, count=self.count(table, matching, why_not=why_not))

    def _alter(self, stmt: Stmt, node: Any) -> None:
        from sqlglot import exp

        table = _table_name(node.this) or "?"
        line, text = stmt.line, stmt.text
        known = self.table(table)
        for action in node.args.get("actions") or ():
            if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
                for column in _drop_targets(action):
                    self.add("drop_column", "high", line, text, table, data_loss_message(table, column),
                             column=column, count=self.count(table))
                    known.columns.pop(column, None)
            elif isinstance(action, exp.RenameColumn):
                old, new = action.this.name, action.args["to"].name
                self.add("rename", "medium", line, text, table,
                         f'Renames column "{old}" of "{table}" to "{new}": code still using the old name breaks',
                         column=old, count=self.count(table))
                if old in known.columns:
                    known.columns[new] = known.columns.pop(old)
                if (table, old) in self.added_columns:
                    self.added_columns.add((table, new))
            elif isinstance(action, exp.AlterRename):
                new = _table_name(action.this) or "?"
                self.add("rename", "medium", line, text, table,
                         f'Renames table "{table}" to "{new}": code still using the old name breaks',
                         count=self.count(table))
                self.rename_table(table, new)
            elif isinstance(action, exp.ColumnDef):
                added = _added_column(stmt, action, self.dialect)
                if added.not_null and not added.has_default:
                    self.add("set_not_null", "medium", line, text, table,
                             f'Adds column "{action.name}" to "{table}" as NOT NULL without a default: SQLite '
                             "refuses that (the migration fails)", column=action.name, count=self.count(table))
                self.add_column(table, action.name, added)
            elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                existing = known.columns.get(action.this.name)
                severity, why = type_change(existing.type if existing else None, action.args["dtype"].sql(),
                                            using=action.args.get("using") is not None)
                self.add("alter_column_type", severity, line, text, table, f'Column "{action.this.name}": {why}',
                         column=action.this.name, count=self.count(table))
            else:
                self.unparsed(stmt, f"ALTER TABLE action {type(action).__name__}")

    def _redefinition(self, statements: list[Stmt], redef: _Redefinition) -> None:
        """A generated SQLite "redefine table": report what the copy loses, not a drop and a rename."""
        drop = statements[redef.drop]
        line, text, table = drop.line, drop.text, redef.table
        new_columns = _sqlite_columns(statements[redef.create], self.dialect)
        old = self.tables.get(table)
        copied = redef.copied
        sources = redef.read
        count = self.count(table)
        found = self._filtered_copy(statements[redef.insert], table)

        def add(kind: str, severity: Severity, message: str, column: str) -> None:
            nonlocal found
            found = True
            self.add(kind, severity, line, text, table, message, column=column, count=count)

        if old is not None and old.known:
            for column in old.columns:
                if column not in sources:
                    add("drop_column", "high", f'Redefining "{table}" drops column "{column}" and its data '
                        "(not copied)", column)
            for target, source in copied.items():
                new_col = new_columns.get(target)
                old_col = old.columns.get(source) if source is not None else None
                if new_col is None:
                    continue
                if source is None:
                    add("alter_column_type", "medium", f'Redefining "{table}" fills column "{target}" from an '
                        "expression", target)
                    continue
                if old_col is None:
                    continue
                if old_col.type != new_col.type:
                    severity, why = sqlite_type_change(old_col.type, new_col.type)
                    add("alter_column_type", severity, f'Column "{target}" of "{table}": {why}', target)
                if new_col.not_null and not old_col.not_null:
                    if new_col.has_default:
                        add("set_not_null", "low", f'Column "{target}" of "{table}" becomes NOT NULL (it has a '
                            "default, but existing NULLs are copied as NULL and make the copy fail)", target)
                    else:
                        add("set_not_null", "medium", f'Column "{target}" of "{table}" becomes NOT NULL without a '
                            "default: existing NULL values make the migration fail", target)
            if not found:
                self.add(TABLE_REBUILD, "info", line, text, table,
                         f'Table "{table}" is rebuilt (copied into a new table): every existing column is '
                         "copied with its type, and every row")
        else:
            # the migration's warning comment, when there is one, names what the redefinition loses
            for column in sorted(self.warnings.dropped_columns.get(table, set()) - sources):
                add("drop_column", "high", f'Redefining "{table}" drops column "{column}" and its data '
                    "(not copied)", column)
            for target in copied:
                if (table, target) in self.warnings.made_required:
                    add("set_not_null", "medium", f'Column "{target}" of "{table}" becomes required (NOT NULL)',
                        target)
                hint = self.warnings.casts.get((table, target))
                if hint is not None:
                    add("alter_column_type", "medium", f'Column "{target}" of "{table}" changes type: '
                        f"{hint[0]} → {hint[1]} (the migration's warning comment says so); values that do not "
                        "convert are kept as they are", target)
            if not found:
                self.add("alter_column_type", "medium", line, text, table,
                         f'Table "{table}" is redefined (copied into a new table); its old columns are not '
                         "known here, so dropped columns or type changes cannot be ruled out "
                         f"(copied: {', '.join(sorted(sources)) or 'nothing'})", count=count)
        # the new table replaces the old one (which keeps its origin); columns it does not copy are new
        self.redefined.add(table)
        self.tables[table] = Table(new_columns)
        self.tables.pop(redef.new, None)
        self.note_dropped(("table", redef.new))
        for target in new_columns:
            if target not in copied:
                self.added_columns.add((table, target))

    def _filtered_copy(self, insert: Stmt, table: str) -> bool:
        """The copy's SELECT leaves rows out (WHERE, DISTINCT, GROUP BY, LIMIT, a join, OR IGNORE):
        report the rows it loses, counted as the table's rows minus the rows the SELECT returns."""
        node = insert.node
        select = node.expression
        reasons = [label for arg, label in (("where", "a WHERE"), ("distinct", "DISTINCT"), ("group", "GROUP BY"),
                                            ("having", "HAVING"), ("limit", "LIMIT"), ("offset", "OFFSET"))
                   if select.args.get(arg)]
        joins = [j for j in select.args.get("joins") or () if str(j.args.get("side") or "").upper() != "LEFT"]
        if joins:
            reasons.append("a join")
        alternative = str(node.args.get("alternative") or "").upper()
        if not reasons and alternative not in ("IGNORE", "REPLACE"):
            return False
        if alternative in ("IGNORE", "REPLACE"):
            why = f"INSERT OR {alternative}"
            count = self.count(table, why_not=f"the rows INSERT OR {alternative} skips cannot be counted beforehand")
        else:
            why = " and ".join(reasons)
            kept = _select_text(insert.text, self.dialect)
            matching = None if kept is None else (
                f"SELECT max(0, (SELECT count(*) FROM {_quote(table)}) - (SELECT count(*) FROM ({kept})))")
            count = self.count(table, matching, why_not=None if kept else "the copy's SELECT cannot be cut out",
                               bound="a join may also repeat rows" if joins else None)
        self.add("delete_where", "medium", insert.line, insert.text, table,
                 f'Redefining "{table}" copies only the rows its SELECT keeps ({why}): the rows it leaves out '
                 "are lost", count=count)
        return True


# --- SQLite helpers ----------------------------------------------------------------------------


@dataclass
class _Redefinition:
    table: str
    new: str
    create: int
    insert: int
    drop: int
    rename: int
    copied: dict[str, str | None]  # new column -> old column (None: an expression)
    read: set[str]  # old columns the copy reads

    @property
    def indexes(self) -> tuple[int, ...]:
        return (self.create, self.insert, self.drop, self.rename)


def _find_redefinitions(statements: list[Stmt]) -> dict[int, _Redefinition]:
    """CREATE TABLE T2; INSERT INTO T2 ... SELECT ... FROM T; DROP TABLE T; ALTER TABLE T2 RENAME TO T.

    Keyed by the index of the CREATE statement. Without the INSERT ... SELECT FROM T the old data
    is simply dropped, so that is reported as a drop_table, not as a redefinition.
    """
    from sqlglot import exp

    creates: dict[str, int] = {}
    inserts: dict[tuple[str, str], tuple[int, tuple[dict[str, str | None], set[str]]]] = {}
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
                    insert_index, (copied, read) = inserts[(new, table)]
                    create = creates[new]
                    if create < insert_index < drops[table] < index:
                        found[create] = _Redefinition(table, new, create, insert_index, drops[table], index, copied,
                                                      read)
    return found


def _copied_columns(insert: Any) -> tuple[dict[str, str | None], set[str]]:
    """(new column -> the old column copied into it, None for an expression; every old column the
    SELECT's expressions read, so a column used by `max("id")` is not reported as dropped)."""
    from sqlglot import exp

    targets = [e.name for e in insert.this.expressions] if isinstance(insert.this, exp.Schema) else []
    select = insert.expression
    copied: dict[str, str | None] = {}
    read: set[str] = set()
    for position, expression in enumerate(select.expressions):
        inner = expression.this if isinstance(expression, exp.Alias) else expression
        source = inner.name if isinstance(inner, exp.Column) else None
        target = targets[position] if position < len(targets) else (expression.alias_or_name or f"#{position}")
        copied[target] = source
        read.update(column.name for column in inner.find_all(exp.Column))
    return copied, read


def _index_column(index: Any) -> str | None:
    """The column of a one-column index (None for several columns or an expression)."""
    from sqlglot import exp

    params = index.args.get("params")
    columns = params.args.get("columns") or [] if params is not None else []
    if len(columns) != 1:
        return None
    inner = columns[0].this if isinstance(columns[0], exp.Ordered) else columns[0]
    return str(inner.name) if isinstance(inner, exp.Column) else None


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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- statement text: declared types and the clauses a count is cut from --------------------------

# Words that end a column's type name and start its constraints (SQLite's column-def grammar).
_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE",
                               "REFERENCES", "GENERATED", "AS"})
_TABLE_CONSTRAINTS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})


def _tokens(text: str, dialect: str) -> list[Any]:
    import sqlglot

    return list(sqlglot.Dialect.get_or_raise(dialect).tokenize(text))


def _depths(tokens: list[Any]) -> list[int]:
    """The parenthesis depth of each token (a parenthesis itself counts as outside)."""
    from sqlglot import TokenType

    depth, depths = 0, []
    for token in tokens:
        if token.token_type == TokenType.R_PAREN:
            depth -= 1
        depths.append(depth)
        if token.token_type == TokenType.L_PAREN:
            depth += 1
    return depths


def _declared_type(text: str, tokens: list[Any]) -> str | None:
    """The type name of one column definition (`tokens` from the column's name on), as written."""
    from sqlglot import TokenType

    depth, end = 0, None
    for token in tokens[1:]:
        if depth == 0 and token.text.upper() in _CONSTRAINT_WORDS:
            break
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        end = token.end
    if end is None:
        return None
    return " ".join(text[tokens[1].start : end + 1].split())


def _sqlite_columns(stmt: Stmt, dialect: str) -> dict[str, Column]:
    """The columns of a CREATE TABLE: declared types from the text, constraints from the parse tree."""
    from sqlglot import TokenType, exp

    create = stmt.node
    schema = create.this if create is not None else None
    if not isinstance(schema, exp.Schema):
        return {}
    tokens = _tokens(stmt.text, dialect)
    depths = _depths(tokens)
    elements: list[list[Any]] = [[]]
    for token, depth in zip(tokens, depths, strict=True):
        if depth == 0:
            continue
        if depth == 1 and token.token_type == TokenType.COMMA:
            elements.append([])
        elif depth >= 1:
            elements[-1].append(token)
    declared = {element[0].text: _declared_type(stmt.text, element) for element in elements
                if element and element[0].text.upper() not in _TABLE_CONSTRAINTS}
    columns: dict[str, Column] = {}
    for element in schema.expressions:
        if isinstance(element, exp.ColumnDef):
            columns[element.name] = _sqlite_column(element, declared.get(element.name))
    return columns


def _added_column(stmt: Stmt, column: Any, dialect: str) -> Column:
    """The column of ALTER TABLE ... ADD [COLUMN] name type ..., its type as written."""
    tokens = _tokens(stmt.text, dialect)
    adds = [i for i, t in enumerate(tokens) if t.text.upper() == "ADD"]
    start = adds[0] + 1 if adds else len(tokens)
    if start < len(tokens) and tokens[start].text.upper() == "COLUMN":
        start += 1
    declared = _declared_type(stmt.text, tokens[start:]) if start < len(tokens) else None
    return _sqlite_column(column, declared)


def _sqlite_column(column: Any, declared: str | None) -> Column:
    from sqlglot import exp

    kind = column.args.get("kind")
    result = Column(declared if declared is not None else (kind.sql() if kind is not None else None))
    for constraint in column.args.get("constraints") or ():
        inner = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        not_null = isinstance(inner, exp.NotNullColumnConstraint) and not inner.args.get("allow_null")
        if not_null or isinstance(inner, exp.PrimaryKeyColumnConstraint):
            result.not_null = True
        elif isinstance(inner, exp.DefaultColumnConstraint):
            result.has_default = True
    return result


def _dml_count(text: str, dialect: str) -> tuple[str | None, str | None]:
    """(SELECT count(*) of the rows a DELETE or UPDATE changes, None) or (None, why it cannot be
    counted), cut from the statement's text: its WITH, its table, its FROM join, its WHERE."""
    from sqlglot import TokenType

    tokens = _tokens(text, dialect)
    top = [t for t, depth in zip(tokens, _depths(tokens), strict=True) if depth == 0]
    verbs = [i for i, t in enumerate(top) if t.token_type in (TokenType.DELETE, TokenType.UPDATE)]
    wheres = [i for i, t in enumerate(top) if t.token_type == TokenType.WHERE]
    if not verbs or not wheres:
        return None, "its WHERE cannot be found in the statement"
    verb, where = verbs[0], wheres[0]
    stops = [i for i, t in enumerate(top) if i > where and t.token_type in (
        TokenType.RETURNING, TokenType.ORDER_BY, TokenType.LIMIT)]
    if stops and top[stops[0]].token_type != TokenType.RETURNING:
        return None, "ORDER BY / LIMIT select only some of the rows its WHERE matches"
    end = top[stops[0]].start if stops else len(text)
    prefix = text[: top[verb].start]
    condition = text[top[where].end + 1 : end].strip()
    if top[verb].token_type == TokenType.DELETE:
        froms = [i for i in range(verb + 1, where) if top[i].token_type == TokenType.FROM]
        if not froms:
            return None, "its table cannot be found in the statement"
        table = text[top[froms[0]].end + 1 : top[where].start].strip()
        return f"{prefix}SELECT count(*) FROM {table} WHERE {condition}", None
    sets = [i for i in range(verb + 1, where) if top[i].token_type == TokenType.SET]
    if not sets:
        return None, "its SET cannot be found in the statement"
    start = verb + 1
    if top[start].token_type == TokenType.OR:  # UPDATE OR IGNORE ...
        start += 2
    table = text[top[start].start : top[sets[0]].start].strip()
    froms = [i for i in range(sets[0] + 1, where) if top[i].token_type == TokenType.FROM]
    if froms:
        joined = text[top[froms[0]].end + 1 : top[where].start].strip()
        return f"{prefix}SELECT count(*) FROM {table} WHERE EXISTS (SELECT 1 FROM {joined} WHERE {condition})", None
    return f"{prefix}SELECT count(*) FROM {table} WHERE {condition}", None


def _select_text(text: str, dialect: str) -> str | None:
    """The SELECT of an INSERT ... SELECT, as written (without an ON CONFLICT or RETURNING clause)."""
    from sqlglot import TokenType

    tokens = _tokens(text, dialect)
    top = [t for t, depth in zip(tokens, _depths(tokens), strict=True) if depth == 0]
    selects = [i for i, t in enumerate(top) if t.token_type in (TokenType.SELECT, TokenType.WITH)]
    if not selects:
        return None
    end = len(text)
    for i in range(selects[0] + 1, len(top)):
        following = top[i + 1].text.upper() if i + 1 < len(top) else ""
        if top[i].token_type == TokenType.RETURNING or (top[i].token_type == TokenType.ON and following == "CONFLICT"):
            end = top[i].start
            break
    return text[top[selects[0]].start : end].strip()
