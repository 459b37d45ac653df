"""What Prisma's output means to faber-db: P-codes -> faber-db error codes, and the hints that go
with them. Output comes from Prisma's engines (native or WebAssembly), whose wording differs, so as
little text as possible is parsed: P-codes first, a few stable phrases second."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from faber_db.errors import FaberError
from faber_db.handlers.prisma._lazy import LazyPattern

if TYPE_CHECKING:
    import subprocess

    from faber_db.handlers.prisma.project import UrlSources

# Prisma error codes → faber-db codes (https://www.prisma.io/docs/orm/reference/error-reference)
PRISMA_ERROR_CODES: dict[str, str] = {
    "P1000": "DATABASE_UNREACHABLE",  # authentication failed
    "P1001": "DATABASE_UNREACHABLE",  # can't reach database server
    "P1002": "DATABASE_UNREACHABLE",  # server reached but timed out
    "P1003": "DATABASE_UNREACHABLE",  # database does not exist
    "P1010": "DATABASE_UNREACHABLE",  # access denied
    "P1011": "DATABASE_UNREACHABLE",  # TLS error
    "P1012": "SCHEMA_INVALID",  # schema validation error
    "P1013": "DATABASE_URL_INVALID",  # invalid database string
    "P3005": "DRIFT_DETECTED",  # database not empty, no history (baseline needed)
    "P3006": "MIGRATION_FAILED",  # migration failed to apply cleanly to the shadow database
    "P3008": "PRISMA_FAILED",  # migration already recorded as applied
    "P3009": "FAILED_MIGRATION_PRESENT",  # failed migrations found in the target database
    "P3014": "DATABASE_ERROR",  # could not create shadow database
    "P3018": "MIGRATION_FAILED",  # a migration failed to apply
}

_PCODE = LazyPattern(r"\b(P[1-3]\d{3})\b")
# the database's own words: after "Database error:" (native engine, Prisma 7), else an adapter's
# "Error: SQLITE_ERROR: ..." line, or the line after its "external connector error" (Prisma 6 with
# a driver adapter prints no P-code)
_DATABASE_ERROR = LazyPattern(r"^Database error:\s*\n\s*(?P<a>\S[^\n]*)|"
                              r"^Error: (?!P\d{4}\b)(?:external connector error\s*\n\s*)?(?P<b>\S[^\n]*)", re.M)
_SCHEMA_ERROR_LINE = LazyPattern(r"schema\.prisma:(\d+)")
_ENGINE_DOWNLOAD = LazyPattern(r"binaries\.prisma\.sh|PRISMA_(?:SCHEMA_ENGINE_BINARY|QUERY_ENGINE_LIBRARY)")
# the schema engine itself died: a Rust panic (native), a trap in the WebAssembly build
_ENGINE_CRASH = LazyPattern(r"RuntimeError: unreachable|panicked at|RustPanic|\[EXIT_PANIC\]|"
                            r"Oops, an unexpected error occurred")
_CONFIG_ENV_UNSET = LazyPattern(r"Cannot resolve environment variable: (?P<v>[A-Za-z_][A-Za-z0-9_]*)")


def schema_error(result: subprocess.CompletedProcess[str], schema_label: str) -> FaberError | None:
    """A schema Prisma cannot parse is the user's input: exit 2, naming the line."""
    output = result.stderr + "\n" + result.stdout
    if "P1012" not in output and "Schema validation error" not in output and "error: " not in output:
        return None
    line = _SCHEMA_ERROR_LINE.search(output)
    messages = [m.strip() for m in re.findall(r"error: ([^\n]+)", output)]
    where = f" at line {line[1]}" if line else ""
    first = messages[0] if messages else "Prisma could not validate the schema"
    return FaberError(
        "SCHEMA_INVALID",
        f"{schema_label}{where}: {first}",
        "Fix the schema (`npx prisma validate` shows every error), then run again; nothing was written.",
        details={"line": int(line[1]) if line else None, "errors": messages,
                 "prisma_output": "\n".join(output.strip().splitlines()[-20:])},
    )


def datasource_error(sources: UrlSources) -> FaberError:
    """The project reads its URL in a way faber-db cannot set for an environment."""
    return FaberError(
        "DATASOURCE_NOT_FROM_ENV",
        f"{sources.unreadable}: faber-db points Prisma at an environment by setting the variable the "
        "datasource URL is read from, and there is none; nothing was run",
        "Read the URL from a variable: in prisma.config.ts `datasource: { url: env(\"DATABASE_URL\") }` "
        "(Prisma 7), or in schema.prisma `url = env(\"DATABASE_URL\")` (Prisma 6). Any name works; faber-db "
        "sets that variable to the environment's URL (the environment's url_env) for each Prisma call.",
        details={"origin": sources.origin},
    )


def error_from(result: subprocess.CompletedProcess[str], what: str) -> FaberError:
    """Turn a failed Prisma call into a FaberError with a stable code and the output's tail."""
    output = (result.stderr + "\n" + result.stdout).strip()
    tail = "\n".join(output.splitlines()[-25:])
    if crash := _ENGINE_CRASH.search(output):
        return FaberError(
            "PRISMA_FAILED",
            f"{what} failed: Prisma's schema engine crashed ({crash[0]}, prisma exit {result.returncode})",
            "A crash inside Prisma's engine, not an error in the migrations or the schema: run again, and if "
            "it repeats, report it to Prisma with prisma_output; nothing was written.",
            details={"prisma_code": None, "prisma_output": tail, "engine_crash": True},
        )
    if unset := _CONFIG_ENV_UNSET.search(output):
        return FaberError(
            "PRISMA_FAILED",
            f"{what} failed: prisma.config.ts reads {unset['v']} with env(), which throws when it is unset",
            f"Set {unset['v']}, or read it with process.env.{unset['v']} in prisma.config.ts if it is optional. "
            "(faber-db itself sets only the variables the datasource's URLs are read from.)",
            details={"prisma_code": None, "prisma_output": tail},
        )
    pcode = next(iter(_PCODE.findall(output)), None)
    code = PRISMA_ERROR_CODES.get(pcode or "", "PRISMA_FAILED")
    # checked first: the failed download's ENOTFOUND is about Prisma's binary host, not the database
    if code == "PRISMA_FAILED" and _ENGINE_DOWNLOAD.search(output):
        code = "PRISMA_ENGINE_UNAVAILABLE"
    # driver adapters report connection problems without a P-code
    if code == "PRISMA_FAILED" and re.search(
            r"Can't reach database server|ECONNREFUSED|ENOTFOUND|password authentication failed|"
            r"[Aa]uthentication failed|database \S+ does not exist|SQLITE_CANTOPEN", output):
        code = "DATABASE_UNREACHABLE"
    # only where a migration's SQL failed: other failures' "Error:" lines are Prisma's, not the database's
    applying = pcode in ("P3006", "P3018") or "apply_migration" in output
    said = _DATABASE_ERROR.search(output) if applying else None
    database_error = (said["a"] or said["b"]).strip() if said else None
    return FaberError(
        code,
        f"{what} failed (prisma exit {result.returncode}{', ' + pcode if pcode else ''})"
        + (f": {database_error}" if database_error else ""),
        hint_for(code),
        details={"prisma_code": pcode, "prisma_output": tail, "database_error": database_error},
    )


def hint_for(code: str) -> str:
    return {
        "DATABASE_UNREACHABLE": "Check that the database server is running and the URL is right.",
        "SCHEMA_INVALID": "Fix the schema error shown in prisma_output (`npx prisma validate`).",
        "FAILED_MIGRATION_PRESENT": "Run `faber-db status <env>` to see the failed migration, then restore "
        "or resolve it (`faber-db rollback` / `prisma migrate resolve`).",
        "MIGRATION_FAILED": "Read prisma_output for the database error; fix the migration SQL.",
        # Driver-adapter projects need no engine binary, but only Prisma's reading of the generator block
        # tells it so: a syntax error that hides that block sends Prisma after the query engine instead.
        "PRISMA_ENGINE_UNAVAILABLE": "Prisma tried to download an engine from binaries.prisma.sh and could "
        "not. If schema.prisma was just edited, look for a syntax error first (with driver adapters a "
        "broken schema makes Prisma want its query engine); otherwise run Prisma once where it can "
        "download, or point PRISMA_SCHEMA_ENGINE_BINARY / PRISMA_QUERY_ENGINE_LIBRARY at local engines.",
    }.get(code, "See prisma_output in the details.")
