"""The one JSON result every command prints (PRODUCT.md, "The result every script prints").

Results are typed stdlib dataclasses, not pydantic models, on purpose: importing pydantic costs
~70 ms, more than `faber-db status` is allowed in total. pydantic still owns the contract: it
derives the JSON Schema of each operation's result from these same classes (`schema.py`), and
the tests validate real command output against those schemas.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from faber_db.errors import ERROR_CODES, EXIT_FAILED, EXIT_OK, FaberError

ResultStatus = Literal["success", "warning", "failure"]


@dataclass
class ErrorInfo:
    code: str
    message: str
    hint: str = ""


@dataclass
class Finding:
    """One risky statement found in migration SQL (shared by generate, migrate and the safety report)."""

    statement: str
    line: int
    kind: str
    severity: Literal["info", "low", "medium", "high", "critical"]
    table: str | None = None
    rows: int | None = None
    migration: str | None = None
    message: str = ""
    rule: str | None = None
    # the column the finding is about (a dropped, retyped, renamed or newly required column; the
    # column of a one-column unique index), so no caller has to read it out of `message`
    column: str | None = None


@dataclass
class MigrationEntry:
    name: str
    checksum: str | None = None
    applied_at: str | None = None


@dataclass
class StatusDetails:
    provider: str
    database: str
    up_to_date: bool
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    missing_locally: list[str] = field(default_factory=list)
    local_count: int = 0
    # --drift: how the database differs from its applied history (None: not checked)
    drift: list[dict[str, Any]] | None = None
    # --drift: what the schema and the migration history disagree on, each step of the diff between
    # them (None: not checked, or the tool has no schema)
    schema_drift: list[dict[str, Any]] | None = None


# pydantic reads this on stdlib dataclasses: the JSON schema's field descriptions come from attribute
# docstrings (the deprecated aliases'); a plain dict keeps pydantic unimported.
DOCSTRINGS_DESCRIBE: dict[str, Any] = {"use_attribute_docstrings": True}


@dataclass
class InitDetails:
    __pydantic_config__ = DOCSTRINGS_DESCRIBE
    config_path: str
    written: bool
    provider: str
    schema: str
    migrations_dir: str
    environments: dict[str, str]
    # the `database.migration_tool` written
    migration_tool: str
    # the migration tool's own config file, the command faber-db runs it with, its installed version
    tool_config: str | None = None
    tool_command: list[str] = field(default_factory=list)
    tool_version: str | None = None
    # the variables the project reads its URL / its shadow database's URL from: faber-db sets them to the
    # chosen environment's URL for each call of the tool
    datasource_url_env: list[str] = field(default_factory=list)
    datasource_shadow_env: str | None = None
    prisma_config: str | None = None
    """Deprecated alias of tool_config (same content), kept for one release; read tool_config."""
    prisma_command: list[str] = field(default_factory=list)
    """Deprecated alias of tool_command (same content), kept for one release; read tool_command."""
    prisma_version: str | None = None
    """Deprecated alias of tool_version (same content), kept for one release; read tool_version."""

    def __post_init__(self) -> None:
        self.prisma_config, self.prisma_command, self.prisma_version = (
            self.tool_config, list(self.tool_command), self.tool_version)


@dataclass
class Result:
    status: ResultStatus
    operation: str
    environment: str | None
    message: str
    details: Any = None
    warnings: list[str] = field(default_factory=list)
    errors: list[ErrorInfo] = field(default_factory=list)
    suggested_fixes: list[str] = field(default_factory=list)
    duration_ms: int = 0

    @property
    def exit_code(self) -> int:
        if self.status != "failure":
            return EXIT_OK
        if self.errors:
            return ERROR_CODES[self.errors[0].code].exit_code
        return EXIT_FAILED

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)  # type: ignore[no-any-return]


def to_jsonable(value: Any) -> Any:
    """Dataclasses → dicts, recursively (asdict deep-copies; this does not)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


class Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    @property
    def ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)


def failure_from_error(
    error: FaberError, operation: str, environment: str | None, duration_ms: int = 0
) -> Result:
    return Result(
        status="failure",
        operation=operation,
        environment=environment,
        message=error.message,
        details=error.details or None,
        errors=[ErrorInfo(error.code, error.message, error.hint)],
        suggested_fixes=[error.hint] if error.hint else [],
        duration_ms=duration_ms,
    )
