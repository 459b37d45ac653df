"""The kinds of finding, their severities and wording, and the rules that judge them.

A finding's `kind` is a key of the config's `safety.destructive` table (DESTRUCTIVE_KINDS), or
`unparsed` (a statement no parser understood: never silently treated as safe), or `lock_risk`
(the PostgreSQL lock lint). `evaluate()` applies the configured rules to a plan's findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from faber_db.config import DestructiveRule
from faber_db.results import Finding

Severity = Literal["info", "low", "medium", "high", "critical"]

DESTRUCTIVE_KINDS = (
    "drop_database",
    "drop_schema",
    "drop_table",
    "truncate",
    "delete_without_where",
    "update_without_where",
    "delete_where",  # rows: the live count of rows its own WHERE matches
    "update_where",
    "drop_column",
    "alter_column_type",
    "set_not_null",
    "add_unique",
    "rename",  # tables, columns, types, enum values, constraints, views, functions, schemas
    "drop_view",
    "drop_materialized_view",
    "drop_function",  # functions, procedures and routines
    "drop_trigger",
    "drop_type",  # types (enums, composites, ranges) and domains
    "drop_extension",
)
UNPARSED = "unparsed"
LOCK_RISK = "lock_risk"
# a SQLite table rebuild that keeps every column with its type and every row: shown, never destructive
TABLE_REBUILD = "table_rebuild"

SEVERITY_ORDER: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
# Findings at or above this severity need approval; "low" ones (a widening type change, a change
# to a table created in the same migration, a view re-created under its own name) are shown but do
# not stop a deploy.
_APPROVAL_SEVERITY = SEVERITY_ORDER["medium"]


def data_loss_message(table: str, column: str | None = None) -> str:
    """The finding message for dropping a table (column None) or one column of it."""
    if column is None:
        return f'Drops table "{table}" and all its rows'
    return f'Drops column "{column}" of "{table}" and its data'


@dataclass
class RuleDecision:
    """What the configured destructive-operation rules say about a set of findings."""

    blocked: list[Finding] = field(default_factory=list)
    needs_approval: list[Finding] = field(default_factory=list)
    approval_level: Literal["standard", "enhanced"] = "standard"
    requires_backup: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def destructive(self) -> bool:
        return bool(self.blocked or self.needs_approval)

    @property
    def allowed(self) -> bool:
        return not self.blocked


def is_destructive(finding: Finding) -> bool:
    """A finding that needs approval: a destructive kind (or an unparsed statement) at medium or above."""
    if finding.kind not in DESTRUCTIVE_KINDS and finding.kind != UNPARSED:
        return False
    return SEVERITY_ORDER.get(finding.severity, 0) >= _APPROVAL_SEVERITY


def evaluate(findings: Iterable[Finding], rules: dict[str, DestructiveRule]) -> RuleDecision:
    """Apply the destructive-operation rules (config `safety.destructive`) to the findings.

    A kind the rules do not name (for example `unparsed`) gets the default rule: allowed with
    standard approval and a backup. Lock-risk findings and low-severity findings are not destructive.
    """
    decision = RuleDecision()
    default = DestructiveRule()
    for finding in findings:
        if not is_destructive(finding):
            continue
        rule = rules.get(finding.kind, default)
        where = _where(finding)
        if not rule.allowed:
            decision.blocked.append(finding)
            decision.reasons.append(
                f"{finding.kind} is not allowed{where}: {rule.block_reason or 'blocked by the safety rules'}"
            )
            continue
        decision.needs_approval.append(finding)
        if rule.approval == "enhanced":
            decision.approval_level = "enhanced"
        if rule.require_backup:
            decision.requires_backup = True
        reason = f"{finding.kind}{where} needs {rule.approval} approval"
        if rule.row_threshold is not None and finding.rows is not None and finding.rows < rule.row_threshold:
            reason += (
                f" (still destructive: {finding.rows} row{'s' if finding.rows != 1 else ''}, "
                f"below the row threshold of {rule.row_threshold})"
            )
        elif finding.rows is not None:
            reason += f" ({finding.rows} row{'s' if finding.rows != 1 else ''})"
        decision.reasons.append(reason)
    return decision


def _where(finding: Finding) -> str:
    parts = []
    if finding.table:
        parts.append(f'on "{finding.table}"')
    if finding.migration:
        parts.append(f"in {finding.migration}")
    parts.append(f"line {finding.line}")
    return " " + " ".join(parts)

