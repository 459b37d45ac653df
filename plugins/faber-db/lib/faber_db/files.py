"""Writing faber-db's own files atomically: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write `text` to a temp file beside `path`, fsync it, and rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644 if mode is None else mode)
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


# A migration, down script or schema bigger than this is refused rather than analysed: parsing
# 100 MB of SQL takes gigabytes of memory; a data load of that size belongs in a script of its own.
MAX_PROJECT_FILE_BYTES = 16 * 1024 * 1024


def read_project_file(path: Path, project_root: Path, *, what: str) -> bytes:
    """The bytes of a file the project holds (a migration, a down script, a schema), refusing a link
    that leads out of the project and a file too large to analyse; never prints the file's content."""
    from faber_db.errors import FaberError

    shown = _shown(path, project_root)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise FaberError("UNSAFE_PATH", f"{what} {shown} cannot be read (a broken or looping link?)",
                         "Replace the link with the file itself; faber-db reads only files inside the project.",
                         ) from None
    if not resolved.is_relative_to(project_root.resolve()):
        raise FaberError("UNSAFE_PATH", f"{what} {shown} is a link to a file outside the project; it was not read",
                         "Put the file itself in the project (faber-db never follows a link out of it).")
    size = resolved.stat().st_size
    if size > MAX_PROJECT_FILE_BYTES:
        raise FaberError("FILE_TOO_LARGE", f"{what} {shown} is {size // (1024 * 1024)} MB; faber-db analyses files "
                         f"up to {MAX_PROJECT_FILE_BYTES // (1024 * 1024)} MB",
                         "Split it, or load bulk data with a script of its own outside the migrations.")
    return resolved.read_bytes()


def _shown(path: Path, project_root: Path) -> str:
    try:
        return str(path.relative_to(project_root))
    except ValueError:
        return str(path)
