"""PostgreSQL data changes: DELETE, UPDATE and MERGE, also as data-modifying CTEs, each finding
with the read-only query that counts the rows it changes (built from the statement's own WHERE,
USING/FROM join and read-only CTEs, deparsed by pglast).

pglast is imported inside functions: `faber-db status` must not pay for it.
"""

from __future__ import annotations

from typing import Any

from faber_db.safety.kinds import Severity
from faber_db.safety.model import Analyzer, RowCount
from faber_db.safety.postgres_nodes import relname, walk_nodes
from faber_db.safety.rows import postgres_count
from faber_db.safety.statements import Stmt


class PostgresDml(Analyzer):
    """The DELETE/UPDATE/MERGE part of the PostgreSQL analyzer."""

    def __init__(self) -> None:
        super().__init__()
        self.inside: list[str] = []  # " (inside a DO block)" ...: where the statement being read runs
        self.looping = False  # the statement being read is in a PL/pgSQL loop: it runs again and again

    def suffix(self) -> str:
        return self.inside[-1] if self.inside else ""

    def pg_with(self, stmt: Stmt, node: Any) -> tuple[Any, ...]:
        """Report the data-modifying CTEs of `node`'s WITH; return its read-only CTEs (which the
        count of the main statement may need)."""
        from pglast import ast

        with_clause = getattr(node, "withClause", None)
        if with_clause is None:
            return ()
        readonly = tuple(c for c in with_clause.ctes or () if isinstance(c.ctequery, ast.SelectStmt))
        for cte in with_clause.ctes or ():
            if isinstance(cte.ctequery, (ast.DeleteStmt, ast.UpdateStmt, ast.MergeStmt)):
                # reported on the statement's line, like the rest of the statement
                self.inside.append(f' (in the WITH clause, as "{cte.ctename}"){self.suffix()}')
                try:
                    self.pg_dml(stmt, cte.ctequery, readonly)
                finally:
                    self.inside.pop()
        return readonly

    def pg_dml(self, stmt: Stmt, node: Any, ctes: tuple[Any, ...] = ()) -> None:
        from pglast import ast

        ctes = ctes + self.pg_with(stmt, node)
        if isinstance(node, ast.DeleteStmt):
            self._delete(stmt, node, ctes)
        elif isinstance(node, ast.UpdateStmt):
            self._update(stmt, node, ctes)
        elif isinstance(node, ast.MergeStmt):
            self._merge(stmt, node, ctes)

    def _delete(self, stmt: Stmt, node: Any, ctes: tuple[Any, ...]) -> None:
        table = relname(node.relation)
        if node.whereClause is None:
            self.add("delete_without_where", "high", stmt.line, stmt.text, table,
                     f'DELETE without WHERE removes every row of "{table}"{self.suffix()}',
                     count=self.count(node.relation))
            return
        matched = "its WHERE and its USING join match" if node.usingClause else "its WHERE matches"
        self.add("delete_where", "medium", stmt.line, stmt.text, table,
                 f'DELETE removes the rows of "{table}" {matched}{self.suffix()}',
                 count=self.count(node.relation, node.whereClause, node.usingClause, ctes))

    def _update(self, stmt: Stmt, node: Any, ctes: tuple[Any, ...]) -> None:
        from pglast import ast

        table = relname(node.relation)
        targets = list(dict.fromkeys(t.name for t in node.targetList or () if isinstance(t, ast.ResTarget) and t.name))
        names = ", ".join(f'"{t}"' for t in targets)
        columns = f"column {names}" if len(targets) == 1 else f"columns {names}"
        column = targets[0] if len(targets) == 1 else None
        severity: Severity
        if node.whereClause is None:
            severity, why = "high", ""
            if self.overwrites_nothing(table, targets):
                severity, why = "low", "; it sets only columns this same migration adds, so no value is lost"
            self.add("update_without_where", severity, stmt.line, stmt.text, table,
                     f'UPDATE without WHERE overwrites {columns} in every row of "{table}"{why}{self.suffix()}',
                     column=column, count=self.count(node.relation))
            return
        severity, why = "medium", ""
        if self.overwrites_nothing(table, targets):
            severity, why = "low", "; it sets only columns this same migration adds, so no value is lost"
        matched = "its WHERE and its FROM join match" if node.fromClause else "its WHERE matches"
        self.add("update_where", severity, stmt.line, stmt.text, table,
                 f'UPDATE overwrites {columns} of "{table}" in the rows {matched}{why}{self.suffix()}',
                 column=column, count=self.count(node.relation, node.whereClause, node.fromClause, ctes))

    def _merge(self, stmt: Stmt, node: Any, ctes: tuple[Any, ...]) -> None:
        from pglast import enums

        table = relname(node.relation)
        commands = enums.CmdType
        when_matched = enums.MergeMatchKind.MERGE_WHEN_MATCHED
        clauses = list(node.mergeWhenClauses or ())
        only_matched = all(c.matchKind == when_matched for c in clauses if c.commandType != commands.CMD_INSERT)
        count = self.count(node.relation, node.joinCondition, (node.sourceRelation,), ctes)
        if only_matched:
            count = RowCount(count.total, count.runner, count.matching,
                             bound="the rows its ON condition matches; a WHEN condition may select fewer")
        else:
            count = RowCount(count.total, count.runner,
                             why_not="a WHEN NOT MATCHED BY SOURCE clause changes rows the source does not match")
        for kind, command, verb in (("delete_where", commands.CMD_DELETE, "deletes"),
                                    ("update_where", commands.CMD_UPDATE, "overwrites")):
            if any(c.commandType == command for c in clauses):
                self.add(kind, "medium", stmt.line, stmt.text, table,
                         f'MERGE {verb} the rows of "{table}" it matches in its source{self.suffix()}', count=count)

    def count(self, relation: Any, where: Any = None, joined: Any = None, ctes: tuple[Any, ...] = ()) -> RowCount:
        """The table's rows, and the rows `where` (with the `joined` FROM items) selects."""
        from pglast import ast, enums
        from pglast.stream import RawStream

        table = ast.RangeVar(relname=self.db_name(relation.relname), schemaname=relation.schemaname, inh=True,
                             relpersistence="p")
        total = RawStream()(_count_select(table))
        if where is None:
            return RowCount(total, postgres_count)
        if any(isinstance(n, ast.CurrentOfExpr) for n in walk_nodes(where)):
            return RowCount(total, postgres_count, why_not="WHERE CURRENT OF a cursor")
        if self.looping:  # one pass's rows are not what the loop changes
            return RowCount(total, postgres_count, why_not="it runs in a loop, each pass with its own rows")
        if joined:
            one = ast.ResTarget(val=ast.A_Const(val=ast.Integer(ival=1)))
            exists = ast.SelectStmt(targetList=(one,), fromClause=tuple(joined), whereClause=where)
            where = ast.SubLink(subLinkType=enums.SubLinkType.EXISTS_SUBLINK, subselect=exists)
        with_clause = ast.WithClause(ctes=ctes, recursive=False) if ctes else None
        try:
            matching = RawStream()(_count_select(relation, where, with_clause))
        except Exception as exc:  # pglast's deparser raises plain exceptions on nodes it does not know
            return RowCount(total, postgres_count, why_not=f"its WHERE cannot be rewritten as a count ({exc})")
        return RowCount(total, postgres_count, matching)


def _count_select(relation: Any, where: Any = None, with_clause: Any = None) -> Any:
    from pglast import ast

    count = ast.FuncCall(funcname=(ast.String(sval="count"),), agg_star=True)
    return ast.SelectStmt(targetList=(ast.ResTarget(val=count),), fromClause=(relation,), whereClause=where,
                          withClause=with_clause)

