"""Destructive-change analysis and lock-risk lint of migration SQL.

The SQL is read by real parsers, never by regular expressions: pglast (PostgreSQL's own parser,
libpg_query) for `postgresql`, sqlglot (dialect `sqlite`) for `sqlite`. Each risky statement
becomes a `Finding` whose `kind` is a key of `SafetyConfig.destructive` (plus `unparsed` for a
statement no parser understood, and `lock_risk` for the PostgreSQL lock lint). `evaluate()`
applies the configured rules; `count_rows()` adds live counts.

Modules: statements (splitting and lines), kinds (kinds, severities, wording, rules), model (what
the analysis knows), column_types, postgres and sqlite (the analyzers), analysis (entry points),
locks (squawk and its pglast fallback), rows (live counts). Importing this package imports no
parser: `faber-db status` must not pay for pglast or sqlglot.
"""

from faber_db.safety.analysis import HistoryAnalysis, analyze_migrations, analyze_sql, lock_findings
from faber_db.safety.kinds import (
    DESTRUCTIVE_KINDS,
    LOCK_RISK,
    UNPARSED,
    RuleDecision,
    data_loss_message,
    evaluate,
    is_destructive,
)
from faber_db.safety.locks import lint_locks, lint_locks_many, squawk_path
from faber_db.safety.rows import count_rows
from faber_db.safety.statements import plainly_additive

__all__ = [
    "DESTRUCTIVE_KINDS",
    "LOCK_RISK",
    "UNPARSED",
    "HistoryAnalysis",
    "RuleDecision",
    "analyze_migrations",
    "analyze_sql",
    "count_rows",
    "data_loss_message",
    "evaluate",
    "is_destructive",
    "lint_locks",
    "lint_locks_many",
    "lock_findings",
    "plainly_additive",
    "squawk_path",
]
