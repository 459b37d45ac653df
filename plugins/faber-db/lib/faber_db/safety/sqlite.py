"""The SQLite analyzer: migration SQL read by sqlglot (dialect `sqlite`), including Prisma's
"redefine table" pattern (CREATE new_T; INSERT INTO new_T SELECT ... FROM T; DROP T; RENAME
new_T TO T), reported as what the copy loses rather than as a drop and a rename.

sqlglot is imported inside functions: `faber-db status` must not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faber_db.safety.column_types import parse_type, type_change
from faber_db.safety.kinds import data_loss_message
from faber_db.safety.model import Analyzer, Column, PrismaWarnings, Table
from faber_db.safety.statements import Stmt, split_sqlite, sqlite_comments


class SqliteAnalyzer(Analyzer):
    """`dialect`: sqlglot's dialect of the SQL (sqlite; mysql reads the same way)."""

    def __init__(self, dialect: str) -> None:
        super().__init__()
        self.dialect = dialect

    def _run(self, sql: str) -> None:
        self.warnings = PrismaWarnings.read(sqlite_comments(sql, self.dialect))
        self._sqlite(split_sqlite(sql, self.dialect))

    def _sqlite(self, statements: list[Stmt]) -> None:
        redefinitions = _find_redefinitions(statements)
        skip = {index for r in redefinitions.values() for index in r.indexes}
        for index, stmt in enumerate(statements):
            if index in redefinitions:
                self._sqlite_redefinition(statements, redefinitions[index])
            if index in skip:
                continue
            self._sqlite_statement(stmt)

    def _sqlite_statement(self, stmt: Stmt) -> None:
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
                                 f'Adds a unique index on "{table}"; existing duplicate values make it fail',
                                 column=_index_column(index))
                if name:
                    self.unique_indexes.add(name)
        elif isinstance(node, exp.Alter):
            self._sqlite_alter(stmt, node)

    def _sqlite_alter(self, stmt: Stmt, node: Any) -> None:
        from sqlglot import exp

        table = _table_name(node.this) or "?"
        line, text = stmt.line, stmt.text
        known = self.table(table)
        for action in node.args.get("actions") or ():
            if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
                for column in _drop_targets(action):
                    self.add("drop_column", "high", line, text, table, data_loss_message(table, column), column=column)
                    known.columns.pop(column, None)
            elif isinstance(action, exp.RenameColumn):
                old, new = action.this.name, action.args["to"].name
                self.add("rename", "medium", line, text, table,
                         f'Renames column "{old}" of "{table}" to "{new}": code still using the old name breaks',
                         column=old)
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
                severity, why = type_change(existing.type if existing else None, action.args["dtype"].sql(),
                                             using=action.args.get("using") is not None)
                self.add("alter_column_type", severity, line, text, table, f'Column "{action.this.name}": {why}',
                         column=action.this.name)
            else:
                self.unparsed(stmt, f"ALTER TABLE action {type(action).__name__}")

    def _sqlite_redefinition(self, statements: list[Stmt], redef: _Redefinition) -> None:
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
                             f'Redefining "{table}" drops column "{column}" and its data (not copied)', column=column)
            for target, source in copied.items():
                new_col = new_columns.get(target)
                old_col = old.columns.get(source) if source is not None else None
                if new_col is None:
                    continue
                if source is None:
                    found = True
                    self.add("alter_column_type", "medium", line, text, table,
                             f'Redefining "{table}" fills column "{target}" from an expression', column=target)
                    continue
                if old_col is None:
                    continue
                if old_col.type and new_col.type and parse_type(old_col.type) != parse_type(new_col.type):
                    severity, why = type_change(old_col.type, new_col.type, using=False)
                    found = True
                    self.add("alter_column_type", severity, line, text, table, f'Column "{target}": {why}',
                             column=target)
                if new_col.not_null and not old_col.not_null:
                    found = True
                    if new_col.has_default:
                        self.add("set_not_null", "low", line, text, table,
                                 f'Column "{target}" of "{table}" becomes NOT NULL (it has a default, but '
                                 "existing NULLs are copied as NULL and make the copy fail)", column=target)
                    else:
                        self.add("set_not_null", "medium", line, text, table,
                                 f'Column "{target}" of "{table}" becomes NOT NULL without a default: '
                                 "existing NULL values make the migration fail", column=target)
            if not found:
                self.add("alter_column_type", "low", line, text, table,
                         f'Table "{table}" is redefined (copied into a new table); every column is kept')
        else:
            # Prisma's warning comment, when there is one, names what the redefinition loses.
            dropped = sorted(self.warnings.dropped_columns.get(table, set()) - sources)
            for column in dropped:
                found = True
                self.add("drop_column", "high", line, text, table,
                         f'Redefining "{table}" drops column "{column}" and its data (not copied)', column=column)
            for target in copied:
                if (table, target) in self.warnings.made_required:
                    found = True
                    self.add("set_not_null", "medium", line, text, table,
                             f'Column "{target}" of "{table}" becomes required (NOT NULL)', column=target)
                hint = self.warnings.casts.get((table, target))
                if hint is not None:
                    found = True
                    severity, why = type_change(hint[0], hint[1], using=False)
                    self.add("alter_column_type", severity, line, text, table, f'Column "{target}": {why}',
                             column=target)
            if not found:
                self.add("alter_column_type", "medium", line, text, table,
                         f'Table "{table}" is redefined (copied into a new table); its old columns are not '
                         "known here, so dropped columns or type changes cannot be ruled out "
                         f"(copied: {', '.join(sorted(sources)) or 'nothing'})")
        # the new table replaces the old one
        self.redefined.add(table)
        self.tables[table] = Table(new_columns)
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


def _find_redefinitions(statements: list[Stmt]) -> dict[int, _Redefinition]:
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


def _sqlite_columns(create: Any) -> dict[str, Column]:
    from sqlglot import exp

    columns: dict[str, Column] = {}
    schema = create.this if create is not None else None
    if not isinstance(schema, exp.Schema):
        return columns
    for element in schema.expressions:
        if isinstance(element, exp.ColumnDef):
            columns[element.name] = _sqlite_column(element)
    return columns


def _sqlite_column(column: Any) -> Column:
    from sqlglot import exp

    kind = column.args.get("kind")
    result = Column(kind.sql() if kind is not None else None)
    for constraint in column.args.get("constraints") or ():
        inner = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        not_null = isinstance(inner, exp.NotNullColumnConstraint) and not inner.args.get("allow_null")
        if not_null or isinstance(inner, exp.PrimaryKeyColumnConstraint):
            result.not_null = True
        elif isinstance(inner, exp.DefaultColumnConstraint):
            result.has_default = True
    return result
