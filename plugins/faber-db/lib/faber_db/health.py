"""Health checks: can we reach the database, how fast, and is its migration history sound.

`migrate` runs the fast ones before and after applying; `faber-db health-check` runs them all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from faber_db.errors import FaberError
from faber_db.planning import MigrationState

if TYPE_CHECKING:
    from collections.abc import Callable

    from faber_db.drift import SchemaChange
    from faber_db.engines import Database
    from faber_db.runtime import Target

CheckStatus = Literal["pass", "warn", "fail", "skipped"]
Level = Literal["healthy", "degraded", "unhealthy"]


@dataclass
class Check:
    name: str
    status: CheckStatus
    message: str
    duration_ms: int = 0
    data: dict[str, Any] = field(default_factory=dict)


def level_of(checks: list[Check]) -> Level:
    if any(c.status == "fail" for c in checks):
        return "unhealthy"
    if any(c.status == "warn" for c in checks):
        return "degraded"
    return "healthy"


def connect_checked(target: Target, *, timeout: float = 5.0, create: bool = False) -> tuple[Check, Database | None]:
    """Connect and measure a round trip; a failure is a failed check, not an exception."""
    start = time.monotonic()
    try:
        db = target.connect(create=create, timeout=timeout)
        db.query("SELECT 1")
        version = db.server_version()
    except FaberError as error:
        return Check("connectivity", "fail", error.message, _ms(start), {"code": error.code}), None
    latency = _ms(start)
    status: CheckStatus = "warn" if latency > 1000 else "pass"
    return Check("connectivity", status, f"connected to {db.label} ({version}) in {latency} ms", latency,
                 {"latency_ms": latency, "server_version": version}), db


def check_history(state: MigrationState) -> Check:
    """Failed or edited migrations block a deploy; missing-locally ones are a warning."""
    start = time.monotonic()
    data = {"failed": state.failed, "modified": state.modified, "missing_locally": state.missing_locally,
            "pending": len(state.pending), "applied": len(state.applied)}
    if state.failed:
        return Check("migrations", "fail", f"failed migration(s) recorded: {', '.join(state.failed)}", _ms(start), data)
    if state.modified:
        return Check("migrations", "fail", f"applied migration(s) edited since: {', '.join(state.modified)}",
                     _ms(start), data)
    if state.missing_locally:
        return Check("migrations", "warn", f"applied but not in the folder: {', '.join(state.missing_locally)}",
                     _ms(start), data)
    return Check("migrations", "pass", f"{len(state.applied)} applied, {len(state.pending)} pending", _ms(start), data)


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


ALL_CHECKS = ("connectivity", "migrations", "schema", "performance")


def check_schema(target: Target, db: Database, state: MigrationState,
                 schema_drift: Callable[[], list[SchemaChange] | None]) -> Check:
    """Both drifts: the database against a replay of its applied history, and the history against the
    schema (`schema_drift` computes that: None when the tool has no schema). Either is a warning."""
    from faber_db import drift

    start = time.monotonic()
    differences = drift.detect(target, db, state.applied)
    try:
        changes = schema_drift()
    except FaberError as error:  # the history or the schema is broken: say so, the check goes on
        return Check("schema", "warn", f"the migration history could not be compared with the schema: "
                     f"{error.message}", _ms(start), {"drift": drift.as_dicts(differences), "code": error.code})
    data = {"drift": drift.as_dicts(differences),
            "schema_drift": drift.as_dicts(changes) if changes is not None else None}
    problems = []
    if differences:
        shown = "; ".join(d.describe() for d in differences[:5])
        more = f" (+{len(differences) - 5} more)" if len(differences) > 5 else ""
        problems.append(f"drift: {shown}{more}")
    if changes:
        problems.append(f"the schema and the migrations differ: {drift.describe_schema_changes(changes)}")
    if problems:
        return Check("schema", "warn", "; ".join(problems), _ms(start), data)
    compared = " and the schema matches the migrations" if changes is not None else ""
    return Check("schema", "pass", f"schema matches the applied migrations (no drift){compared}", _ms(start), data)


def check_performance(db: Database) -> Check:
    """Size; where the server knows them, also connections, long transactions and blocked locks."""
    start = time.monotonic()
    data: dict[str, Any] = dict(db.health_figures())
    problems: list[str] = []
    if data.get("long_transactions"):
        problems.append(f"{data['long_transactions']} transaction(s) open for over 5 minutes")
    if data.get("blocked_locks"):
        problems.append(f"{data['blocked_locks']} lock request(s) waiting")
    if "connections" in data and data["connections"] > 0.9 * data["max_connections"]:
        problems.append(f"{data['connections']} of {data['max_connections']} connections in use")
    message = _size(data["size_bytes"]) + (f", {data['connections']} connection(s)" if "connections" in data else "")
    if problems:
        return Check("performance", "warn", "; ".join(problems), _ms(start), data)
    return Check("performance", "pass", message, _ms(start), data)


def _size(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover
