"""Writing files so that a crash or a kill -9 leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes | str, *, durable: bool = True) -> None:
    """Write `data` to a temp file beside `path`, then rename it over `path`.

    `durable`: fsync the file before the rename and the folder after it, so the new content
    survives a power cut too (a cache may skip that cost). The temp name is unique per call, so two
    writers never share one; it is removed when anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    if durable:
        fsync_dir(path.parent)


def write_json_atomic(path: Path, data: Any, *, durable: bool = True) -> None:
    """`write_atomic` of `data` as indented JSON with sorted keys and a final newline."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", durable=durable)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable; a filesystem that cannot fsync a folder is no error."""
    with contextlib.suppress(OSError):
        fsync_file(path)


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
