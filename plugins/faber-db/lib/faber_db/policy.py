"""Shared policy for the CLI and the approval hook (stdlib only).

Interim implementation of the interface the gate engineer delivers (replaced at merge).
"""

from __future__ import annotations

from collections.abc import Mapping

AGENT_VARIABLES = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")


def agent_marker(environ: Mapping[str, str], pid: int | None = None) -> str | None:
    for name in AGENT_VARIABLES:
        if environ.get(name):
            return f"{name} is set"
    return None
