"""Regexes compiled on first use: `faber-db status` imports the Prisma handler but needs few of them."""

from __future__ import annotations

import re
from typing import Any


class LazyPattern:
    """A regex compiled on first use."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)
