"""Stable error codes and the exception that carries them.

Every failure a user can meet has a code here (faber-db's own, and those a migration tool declares in its
`facts.py` for its handler). Codes are part of the public contract:
agents and CI pipelines match on them, so a code is never renamed or reused.
"""

from __future__ import annotations

from dataclasses import dataclass

from faber_db.handlers import known_tools

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


@dataclass(frozen=True)
class ErrorSpec:
    exit_code: int
    summary: str


# faber-db's own codes; each migration tool adds the codes only its handler raises (ERROR_CODES below)
_FABER_CODES: dict[str, ErrorSpec] = {
    # bad usage or bad input (exit 2)
    "USAGE": ErrorSpec(EXIT_USAGE, "The command line is not valid (unknown flag, missing argument)."),
    "CONFIG_NOT_FOUND": ErrorSpec(EXIT_USAGE, "No faber-db config file; run `faber-db init`."),
    "CONFIG_INVALID": ErrorSpec(
        EXIT_USAGE, "The config file cannot be parsed, or a key is unknown or has the wrong type."
    ),
    "CONFIG_EXISTS": ErrorSpec(EXIT_USAGE, "`init` would overwrite an existing config; pass --force."),
    "UNKNOWN_ENVIRONMENT": ErrorSpec(EXIT_USAGE, "The environment is not defined in the config."),
    "DATABASE_URL_MISSING": ErrorSpec(
        EXIT_USAGE, "The environment variable that holds the environment's connection URL is not set."
    ),
    "DATABASE_URL_INVALID": ErrorSpec(EXIT_USAGE, "The connection URL is not one faber-db can use."),
    "DATASOURCE_NOT_FROM_ENV": ErrorSpec(
        EXIT_USAGE, "The project's datasource URL is not read from an environment variable (a literal or "
        "computed URL), so faber-db cannot point it at an environment."
    ),
    "SCHEMA_NOT_FOUND": ErrorSpec(EXIT_USAGE, "No schema file where the config says (the migration tool's schema)."),
    "SCHEMA_INVALID": ErrorSpec(
        EXIT_USAGE, "The migration tool rejected the schema file (syntax or validation error)."
    ),
    "PROVIDER_UNSUPPORTED": ErrorSpec(EXIT_USAGE, "The database provider is not supported yet."),
    "INVALID_NAME": ErrorSpec(EXIT_USAGE, "A migration name is empty or unusable after slugging."),
    "INVALID_ARGUMENT": ErrorSpec(EXIT_USAGE, "An argument value is not valid."),
    "BACKUP_NOT_FOUND": ErrorSpec(EXIT_USAGE, "No backup with that id for that environment."),
    "MIGRATION_NOT_FOUND": ErrorSpec(EXIT_USAGE, "No migration with that name."),
    "UNSAFE_PATH": ErrorSpec(EXIT_USAGE, "A migration, down script or schema is a link out of the project."),
    "FILE_TOO_LARGE": ErrorSpec(EXIT_USAGE, "A migration, down script or schema is too large to analyse."),
    "MIGRATION_FILE_INVALID": ErrorSpec(
        EXIT_USAGE, "A plain SQL migration file is misnamed, shares its version, or has unclear up/down sections."
    ),
    # refused by a safety rule (exit 3)
    "APPROVAL_REQUIRED": ErrorSpec(
        EXIT_REFUSED, "A protected environment needs the plan id from a dry run (--approve PLAN_ID)."
    ),
    "PLAN_CHANGED": ErrorSpec(
        EXIT_REFUSED, "The approved plan no longer matches what would be applied; preview again."
    ),
    "PLAN_UNKNOWN": ErrorSpec(EXIT_REFUSED, "No dry run in this project recorded a plan with that id."),
    "PLAN_USED": ErrorSpec(EXIT_REFUSED, "The plan was already applied; a plan applies once."),
    "PLAN_EXPIRED": ErrorSpec(EXIT_REFUSED, "The plan is older than safety.plan_ttl_hours; preview again."),
    "CONFIRMATION_REQUIRED": ErrorSpec(
        EXIT_REFUSED, "The plan needs an explicit flag besides the approval (e.g. --restore-backup ID)."
    ),
    "CANCELLED": ErrorSpec(EXIT_REFUSED, "The person cancelled (Ctrl-C, Ctrl-D, SIGTERM); any change was undone."),
    "DESTRUCTIVE_CHANGE": ErrorSpec(
        EXIT_REFUSED, "The plan has destructive statements; --allow-destructive and approval are needed."
    ),
    "OPERATION_BLOCKED": ErrorSpec(
        EXIT_REFUSED, "A statement that is never allowed through automation (e.g. DROP DATABASE)."
    ),
    "BACKUP_REQUIRED": ErrorSpec(EXIT_REFUSED, "The environment's policy requires a backup; it cannot be skipped."),
    "DEPLOY_IN_PROGRESS": ErrorSpec(EXIT_REFUSED, "Another faber-db process holds this environment's lock."),
    # the operation failed (exit 1)
    "DATABASE_UNREACHABLE": ErrorSpec(EXIT_FAILED, "The database server could not be reached."),
    "DATABASE_ERROR": ErrorSpec(EXIT_FAILED, "The database answered with an error."),
    "MIGRATION_FAILED": ErrorSpec(EXIT_FAILED, "A migration failed while being applied."),
    "FAILED_MIGRATION_PRESENT": ErrorSpec(
        EXIT_FAILED, "A failed migration is recorded in the database's migration history; resolve it first."
    ),
    "MODIFIED_MIGRATION": ErrorSpec(EXIT_FAILED, "An applied migration's file was edited after it was applied."),
    "DRIFT_DETECTED": ErrorSpec(EXIT_FAILED, "The database schema differs from the migration history."),
    "SCHEMA_DRIFT": ErrorSpec(
        EXIT_FAILED, "The schema and the migration history differ: the next generated migration is not empty."
    ),
    "BACKUP_FAILED": ErrorSpec(EXIT_FAILED, "The backup could not be taken or did not verify."),
    "BACKUP_CORRUPT": ErrorSpec(EXIT_FAILED, "The backup file no longer matches its manifest checksum."),
    "RESTORE_FAILED": ErrorSpec(EXIT_FAILED, "Restoring from a backup failed."),
    "INTERRUPTED_DEPLOY": ErrorSpec(
        EXIT_FAILED, "An earlier deploy was killed midway and left a failed migration; restore its backup."
    ),
    "NO_DOWN_MIGRATION": ErrorSpec(
        EXIT_FAILED, "A migration to roll back has no down.sql; restore the backup taken before it instead."
    ),
    "UNHEALTHY": ErrorSpec(EXIT_FAILED, "A health check failed (see details.checks)."),
    "AUDIT_TAMPERED": ErrorSpec(EXIT_FAILED, "The audit trail's hash chain is broken: a line was edited or deleted."),
    "VERIFY_FAILED": ErrorSpec(EXIT_FAILED, "Post-deployment verification found a mismatch."),
    "RUNTIME_INSTALL_FAILED": ErrorSpec(
        EXIT_FAILED, "The plugin could not install its Python dependencies on first use; the hint has the command."
    ),
    "INTERNAL_ERROR": ErrorSpec(EXIT_FAILED, "An unexpected error in faber-db itself (please report it)."),
}
_GROUPS = (EXIT_USAGE, EXIT_REFUSED, EXIT_FAILED)  # the order the README lists them in

# One table, rendered into the README by `python -m faber_db.errors` (a test keeps them equal): grouped
# by exit code, each tool's codes after faber-db's own of the same exit code.
ERROR_CODES: dict[str, ErrorSpec] = dict(sorted(
    {**_FABER_CODES, **{code: ErrorSpec(*spec) for tool in known_tools().values()
                        for code, spec in tool.error_codes.items()}}.items(),
    key=lambda item: _GROUPS.index(item[1].exit_code)))


class FaberError(Exception):
    """An error a user can act on: a stable code, a message and a hint (required: every error says what to do)."""

    def __init__(
        self,
        code: str,
        message: str,
        hint: str,
        *,
        details: dict[str, object] | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unregistered error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = details or {}

    @property
    def exit_code(self) -> int:
        return ERROR_CODES[self.code].exit_code


def markdown_table() -> str:
    """The error-code table of the README (kept equal by a test; `python -m faber_db.errors` prints it)."""
    rows = ["| code | exit | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{code}` | {spec.exit_code} | {spec.summary} |" for code, spec in ERROR_CODES.items()]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
