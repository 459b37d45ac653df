"""PostgreSQL lock-risk lint: squawk's rules (a Rust binary from the squawk-cli wheel), or, when
squawk is missing or cannot read the file, the same main rules checked with pglast. Findings have
kind `lock_risk` and squawk's rule id in `Finding.rule`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faber_db.results import Finding
from faber_db.safety.kinds import LOCK_RISK, Severity
from faber_db.safety.postgres_nodes import last_name, relname, statement_table, walk_nodes
from faber_db.safety.statements import LineIndex, Stmt, clip, creates_only_new_objects, split_postgres, statement_at

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
        "transaction-nesting",  # a tool's generated enum migrations wrap themselves in BEGIN/COMMIT
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
    statements = split_postgres(sql)
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
    migrations = [(name, sql) for name, sql in migrations if not creates_only_new_objects(sql)]
    if not migrations:
        return []
    binary = squawk_path()
    if binary is None or len(migrations) < 2:
        return [f for name, sql in migrations for f in lint_locks(sql, migration=name, pg_version=pg_version)]
    parsed = [(name, sql, split_postgres(sql)) for name, sql in migrations]
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


def _mask_unparsed(sql: str, statements: list[Stmt]) -> str:
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
    # migration tools send a migration file as one multi-statement query: one implicit transaction.
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
    raw: list[dict[str, Any]], sql: str, statements: list[Stmt], migration: str | None
) -> list[Finding]:
    lines = LineIndex(sql)
    findings: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    for item in raw:
        rule = str(item.get("rule_name") or "")
        if not rule or rule in _SQUAWK_IGNORED:
            continue
        line0 = int(item.get("line") or 0)  # squawk's lines and columns are 0-based
        offset = lines.offset(line0, int(item.get("column") or 0))
        stmt = statement_at(statements, offset)
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
                statement=clip(stmt.text) if stmt is not None else "",
                line=line,
                kind=LOCK_RISK,
                severity="medium" if rule in _SQUAWK_MEDIUM else "low",
                table=statement_table(stmt.node) if stmt is not None else None,
                migration=migration,
                message=message,
                rule=rule,
            )
        )
    return findings


_STABLE_DEFAULT_FUNCS = frozenset({"now", "current_timestamp", "transaction_timestamp", "current_date"})


def _fallback_lint(statements: list[Stmt], sql: str, migration: str | None) -> list[Finding]:
    from pglast import ast, enums

    created: set[str] = set()
    findings: list[Finding] = []
    lock_timeout_set = False
    timeout_reported = False

    def add(stmt: Stmt, rule: str, severity: Severity, table: str | None, message: str) -> None:
        findings.append(
            Finding(clip(stmt.text), stmt.line, LOCK_RISK, severity, table, None, migration, message, rule)
        )

    for stmt in statements:
        node = stmt.node
        if node is None:
            continue
        risky = False
        if isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "lock_timeout":
            lock_timeout_set = True
        elif isinstance(node, ast.CreateStmt):
            created.add(relname(node.relation))
        elif isinstance(node, ast.IndexStmt):
            table = relname(node.relation)
            if table not in created:
                risky = True
                if not node.concurrent:
                    add(stmt, "require-concurrent-index-creation", "medium", table,
                        "Creating an index without CONCURRENTLY blocks writes to the table while it builds.")
        elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
            table = relname(node.relation)
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
            add(stmt, "require-lock-timeout", "low", statement_table(node),
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
            for func in walk_nodes(constraint.raw_expr):
                if isinstance(func, ast.FuncCall):
                    name = last_name(func.funcname).lower()
                    if name not in _STABLE_DEFAULT_FUNCS:
                        return True
    names = column.typeName.names if column.typeName is not None else ()
    return last_name(names).lower() in ("serial", "bigserial", "smallserial")


def _validating_fk(constraint: Any) -> bool:
    from pglast import ast, enums

    return (
        isinstance(constraint, ast.Constraint)
        and constraint.contype == enums.ConstrType.CONSTR_FOREIGN
        and not constraint.skip_validation
    )
