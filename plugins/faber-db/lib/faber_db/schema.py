"""JSON Schemas of every operation's result, derived by pydantic from the result dataclasses.

`python -m faber_db.schema --write` regenerates `schemas/*.schema.json` (checked in); a test fails
when they are stale. A failed result keeps the same envelope; its `details` may instead hold the
error's own details (an object), hence the `anyOf`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from faber_db.results import ErrorInfo, ResultStatus

SCHEMA_DIR = Path(__file__).parent / "schemas"

# operation -> "module:DetailsClass"
OPERATION_DETAILS: dict[str, str] = {
    "init": "faber_db.results:InitDetails",
    "status": "faber_db.results:StatusDetails",
    "generate-migration": "faber_db.commands.generate:GenerateDetails",
    "migrate": "faber_db.operations.migrate:MigrateDetails",
    "backup": "faber_db.operations.backup:BackupDetails",
    "backups": "faber_db.operations.backup:BackupsDetails",
    "restore": "faber_db.operations.restore:RestoreDetails",
    "rollback": "faber_db.operations.rollback:RollbackDetails",
    "health-check": "faber_db.commands.health:HealthDetails",
    "db-create": "faber_db.operations.db_create:DbCreateDetails",
    "audit": "faber_db.commands.audit:AuditDetails",
    "faber": "faber_db.operations.faber:PhaseDetails",
}


def _details_type(spec: str) -> Any:
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def result_schema(operation: str) -> dict[str, Any]:
    from pydantic import TypeAdapter

    details = _details_type(OPERATION_DETAILS[operation])
    envelope = dataclasses.make_dataclass(
        f"{''.join(p.title() for p in operation.split('-'))}Result",
        [
            ("status", ResultStatus),
            ("operation", str),
            ("environment", str | None),
            ("message", str),
            ("details", details | dict[str, Any] | None),
            ("warnings", list[str]),
            ("errors", list[ErrorInfo]),
            ("suggested_fixes", list[str]),
            ("duration_ms", int),
        ],
    )
    schema: dict[str, Any] = TypeAdapter(envelope).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"faber-db {operation} result"
    schema["properties"]["operation"]["const"] = operation
    return schema


def render(operation: str) -> str:
    return json.dumps(result_schema(operation), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate or check the result JSON Schemas")
    parser.add_argument("--write", action="store_true", help="rewrite schemas/*.schema.json")
    args = parser.parse_args(argv)
    stale = []
    for operation in OPERATION_DETAILS:
        path = SCHEMA_DIR / f"{operation}.schema.json"
        text = render(operation)
        if args.write:
            SCHEMA_DIR.mkdir(exist_ok=True)
            path.write_text(text, "utf-8")
        elif not path.is_file() or path.read_text("utf-8") != text:
            stale.append(path.name)
    if stale:
        sys.stderr.write(f"stale schemas: {', '.join(stale)}; run python -m faber_db.schema --write\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
