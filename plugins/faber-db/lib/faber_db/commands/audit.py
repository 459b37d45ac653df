"""`faber-db audit [env] [--since DATE] [--verify]`: the audit trail, and a check of its hash chain."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from faber_db import audit, plans
from faber_db.config import LoadedConfig
from faber_db.errors import FaberError
from faber_db.results import ErrorInfo, Result
from faber_db.runtime import Context

HELP = "Show the audit trail (optionally for one environment); --verify checks its hash chain"


@dataclass
class AuditDetails:
    file: str
    total: int
    entries: list[dict[str, Any]]
    verified: bool | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", nargs="?", help="only this environment's entries")
    parser.add_argument("--since", metavar="DATE", help="only entries at or after this ISO date/time (UTC)")
    parser.add_argument("--limit", type=int, default=50, metavar="N", help="newest N entries (default 50)")
    parser.add_argument("--verify", action="store_true", help="check that no line was edited or deleted")


def _anchors(loaded: LoadedConfig) -> list[tuple[str, dict[str, Any]]]:
    """The chain heads recorded outside the file: in plan records and in backup manifests."""
    from faber_db.backups import list_backups

    root = loaded.project_root
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted((root / plans.PLANS_DIR).glob("*.json")):
        entry = plans.load(root, path.stem)
        if entry is not None and isinstance(entry.audit_head, dict):
            found.append((f"plan {entry.plan_id}", entry.audit_head))
    backups = loaded.resolve(loaded.config.backup.directory)
    for environment in loaded.config.environments:
        found += [(f"backup {m.id}", m.audit_head) for m in list_backups(backups, environment)
                  if isinstance(m.audit_head, dict)]
    return found


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FaberError("INVALID_ARGUMENT", f"--since {value!r} is not an ISO date",
                         "e.g. --since 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def run(ctx: Context, args: argparse.Namespace) -> Result:
    if args.limit < 1:
        raise FaberError("INVALID_ARGUMENT", "--limit must be at least 1", "e.g. --limit 20")
    loaded = ctx.load()
    environment = loaded.environment(args.environment)[0] if args.environment else None
    since = _since(args.since)
    lines = audit.read(loaded.project_root)
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if environment and record.get("environment") != environment:
            continue
        if since and datetime.fromisoformat(str(record.get("time"))) < since:
            continue
        entries.append({"line": number, **{k: v for k, v in record.items() if k not in ("hash", "prev")}})
    details = AuditDetails(file=str(audit.AUDIT_FILE), total=len(lines), entries=entries[-args.limit:])
    if args.verify:
        details.problems = audit.verify(loaded.project_root, _anchors(loaded))
        details.verified = not details.problems
        if details.problems:
            first = details.problems[0]
            where = f"line {first['line']}: " if first["line"] else ""
            message = f"Audit trail tampered: {where}{first['problem']}"
            return Result(status="failure", operation="audit", environment=environment, message=message,
                          details=details, errors=[ErrorInfo(
                              "AUDIT_TAMPERED", message,
                              "Compare audit.jsonl with a copy you trust (a backup of the project); every problem "
                              "is listed in details.problems.")])
    verdict = "; hash chain intact and matches its anchors" if details.verified else ""
    return Result(status="success", operation="audit", environment=environment,
                  message=f"{len(entries)} audit entr{'y' if len(entries) == 1 else 'ies'}{verdict}", details=details)
