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
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", durable=durable)


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
