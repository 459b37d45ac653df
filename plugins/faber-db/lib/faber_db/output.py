"""Printing: one result on stdout (JSON for programs, text for people), progress on stderr.

Everything leaving the process goes through `redact` first, whatever its path.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO

from faber_db.redact import redact
from faber_db.results import Result

_started = time.monotonic()


def choose_format(requested: str | None, stream: TextIO | None = None) -> str:
    """JSON unless a person is reading: `--format` wins, else a terminal gets text."""
    if requested:
        return requested
    stream = stream or sys.stdout
    return "text" if stream.isatty() else "json"


def render_json(result: Result) -> str:
    return redact(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))


def render_text(result: Result) -> str:
    from faber_db.render import render_result  # jinja2 only for people at a terminal

    return redact(render_result(result))


def emit(result: Result, fmt: str) -> None:
    text = render_text(result) if fmt == "text" else render_json(result)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def progress(message: str, *, stream: TextIO | None = None) -> None:
    """A progress line for people, on stderr, with the elapsed time; silent under FABER_DB_QUIET."""
    if os.environ.get("FABER_DB_QUIET"):
        return
    stream = stream or sys.stderr
    elapsed = time.monotonic() - _started
    try:
        stream.write(redact(f"[faber-db {elapsed:6.1f}s] {message}") + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass  # a closed stderr must never fail the operation


def warn(message: str) -> None:
    progress(f"warning: {message}")


def jsonable_details(details: Any) -> Any:
    return json.loads(json.dumps(details, default=str))
