"""Plans: what an operation that changes a database would do, bound to exactly what it would run.

Every guarded operation (migrate, rollback, restore, db-create) computes a `Binding` under the
environment lock: everything the apply depends on (the environment, the database's identity, the
environment's safety config, and the operation's own inputs: each migration's bytes, the down
scripts, the backup's checksum, the live row counts of destructive statements bucketed so that a
material change shows). A dry run records its plan under the project's state folder
(`.fractary/plugins/faber-db/plans/<plan_id>.json`) with a random nonce; the plan id is a hash of
that nonce and the binding, so it cannot be computed without a dry run, and it changes whenever an
input changes. `--approve ID` must name a recorded, unexpired, unused plan whose binding equals the
one computed now; the record is marked used before anything changes, so a plan applies once.

The record is bookkeeping, never authority: what is applied is what is computed now, and it must
equal what the person saw. The hook reads a record's `summary` only to show it to the person.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from faber_db.errors import FaberError
from faber_db.files import write_json_atomic

PLANS_DIR = Path(".fractary/plugins/faber-db/plans")
_PLAN_ID = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Binding:
    """Everything an apply depends on; two equal bindings mean the same change on the same database."""

    operation: str
    environment: str
    database: str
    safety: dict[str, Any]
    inputs: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"operation": self.operation, "environment": self.environment, "database": self.database,
                "safety": self.safety, "inputs": self.inputs}

    def digest(self) -> str:
        return hashlib.sha256(_canonical(self.as_dict()).encode("utf-8")).hexdigest()


@dataclass
class Plan:
    """What a guarded operation would do now, as the workflow needs it (the operation keeps its own
    details: pending migrations, findings, the backup to restore, ...)."""

    binding: Binding
    title: str
    summary: list[str]
    has_changes: bool = True
    destructive: bool = False
    blocked: list[str] = field(default_factory=list)
    requires_backup: bool = False
    # flags the apply must carry besides --approve, each with why: {"--allow-drift": "the schema drifted"}
    required_flags: dict[str, str] = field(default_factory=dict)
    plan_id: str | None = None


@dataclass
class PlanRecord:
    plan_id: str
    nonce: str
    digest: str
    binding: dict[str, Any]
    operation: str
    environment: str
    created_at: str
    expires_at: str
    title: str
    lines: list[str]
    used_at: str | None = None
    audit_head: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "nonce": self.nonce, "digest": self.digest, "binding": self.binding,
                "operation": self.operation, "environment": self.environment, "created_at": self.created_at,
                "expires_at": self.expires_at, "used_at": self.used_at, "audit_head": self.audit_head,
                "summary": {"title": self.title, "lines": self.lines}}


def row_bucket(rows: int | None, threshold: int | None = None) -> str:
    """A live row count as the plan id sees it: empty or not, its order of magnitude (10x growth
    changes it), and which side of the rule's `row_threshold` it is on."""
    if rows is None:
        return "unknown"
    if rows <= 0:
        return "0"
    bucket = f"1e{int(math.log10(rows))}"
    if threshold is not None:
        bucket += ">=t" if rows >= threshold else "<t"
    return bucket


def plan_id_for(nonce: str, digest: str) -> str:
    return hashlib.sha256(f"{nonce}\0{digest}".encode()).hexdigest()[:16]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _path(project_root: Path, plan_id: str) -> Path:
    return project_root / PLANS_DIR / f"{plan_id}.json"


def record(project_root: Path, plan: Plan, *, ttl_hours: float, audit_head: dict[str, Any] | None) -> PlanRecord:
    """Record a previewed plan with a fresh nonce; returns the record (its id is the plan id)."""
    nonce = secrets.token_hex(16)
    digest = plan.binding.digest()
    now = _now()
    entry = PlanRecord(
        plan_id=plan_id_for(nonce, digest), nonce=nonce, digest=digest, binding=plan.binding.as_dict(),
        operation=plan.binding.operation, environment=plan.binding.environment, created_at=_stamp(now),
        expires_at=_stamp(now + timedelta(hours=ttl_hours)), title=plan.title, lines=plan.summary,
        audit_head=audit_head)
    _prune_expired(project_root, now)
    write_json_atomic(_path(project_root, entry.plan_id), entry.to_json())
    return entry


def load(project_root: Path, plan_id: str) -> PlanRecord | None:
    if not _PLAN_ID.match(plan_id):
        return None
    try:
        data = json.loads(_path(project_root, plan_id).read_text("utf-8"))
        summary = data.get("summary") or {}
        return PlanRecord(
            plan_id=str(data["plan_id"]), nonce=str(data["nonce"]), digest=str(data["digest"]),
            binding=dict(data["binding"]), operation=str(data["operation"]), environment=str(data["environment"]),
            created_at=str(data["created_at"]), expires_at=str(data["expires_at"]),
            title=str(summary.get("title", "")), lines=[str(x) for x in summary.get("lines", [])],
            used_at=data.get("used_at"), audit_head=data.get("audit_head"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def check(project_root: Path, plan_id: str, binding: Binding, *, command: str) -> PlanRecord:
    """The recorded plan `plan_id`, if it may be applied now; else a refusal (exit 3) that says why
    and never offers a new plan id (a fresh dry run is the only way to one)."""
    preview = f"`{command} --dry-run`"
    entry = load(project_root, plan_id)
    if entry is None or plan_id_for(entry.nonce, entry.digest) != plan_id:
        raise FaberError(
            "PLAN_UNKNOWN", f"No dry run recorded plan {plan_id!r} in this project; nothing was changed",
            f"Plan ids come only from a dry run in this project: run {preview}, show the plan to the person, "
            "and approve the id it prints.")
    if entry.operation != binding.operation or entry.environment != binding.environment:
        raise FaberError(
            "PLAN_CHANGED", f"Plan {plan_id} is a {entry.operation} plan for {entry.environment}, not a "
            f"{binding.operation} of {binding.environment}; nothing was changed",
            f"Run {preview} and approve the plan it prints.")
    if entry.used_at:
        raise FaberError(
            "PLAN_USED", f"Plan {plan_id} was already applied at {entry.used_at}; a plan applies once; "
            "nothing was changed", f"Run {preview} for a new plan if more is to be done.")
    if _parse(entry.expires_at) <= _now():
        raise FaberError(
            "PLAN_EXPIRED", f"Plan {plan_id} expired at {entry.expires_at}; nothing was changed",
            f"Run {preview} again and approve the new plan (safety.plan_ttl_hours sets how long a plan lasts).")
    if entry.digest != binding.digest():
        changes = describe_changes(entry.binding, binding.as_dict())
        raise FaberError(
            "PLAN_CHANGED",
            f"Plan {plan_id} no longer matches what would be done now ({'; '.join(changes)}); nothing was changed",
            f"Something changed since the dry run: run {preview} again, show the person the new plan, and "
            "approve that one.", details={"changed": changes})
    return entry


def mark_used(project_root: Path, entry: PlanRecord) -> None:
    """Spend the plan before anything changes: a crash later cannot make it applicable twice."""
    entry.used_at = _stamp(_now())
    write_json_atomic(_path(project_root, entry.plan_id), entry.to_json())


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two bindings, in words (for PLAN_CHANGED)."""
    changes: list[str] = []
    if old.get("database") != new.get("database"):
        changes.append("another database")
    old_safety, new_safety = old.get("safety") or {}, new.get("safety") or {}
    for key in sorted(set(old_safety) | set(new_safety)):
        if old_safety.get(key) != new_safety.get(key):
            changes.append(f"environment config {key}: {_short(old_safety.get(key))} -> {_short(new_safety.get(key))}")
    old_inputs, new_inputs = old.get("inputs") or {}, new.get("inputs") or {}
    for key in sorted(set(old_inputs) | set(new_inputs)):
        if old_inputs.get(key) != new_inputs.get(key):
            changes.append(_describe_input(key, old_inputs.get(key), new_inputs.get(key)))
    return changes or ["the plan's inputs"]


def _describe_input(key: str, old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        parts = [f"{name}: {_short(old.get(name))} -> {_short(new.get(name))}"
                 for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
        return f"{key} ({', '.join(parts[:5])}{', ...' if len(parts) > 5 else ''})"
    return f"{key}: {_short(old)} -> {_short(new)}"


def _short(value: Any) -> str:
    text = "none" if value is None else (value if isinstance(value, str) else _canonical(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _prune_expired(project_root: Path, now: datetime) -> None:
    """Expired and used records older than a day are bookkeeping no one needs; keep the folder small."""
    folder = project_root / PLANS_DIR
    if not folder.is_dir():
        return
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(path.read_text("utf-8"))
            if _parse(str(data["expires_at"])) + timedelta(days=1) < now:
                os.unlink(path)
