"""`faber-db init --claude-settings`: Claude Code permission rules that keep an agent away from the
raw database tools and from faber-db's own approval material (the threat model's second line).

The rules go into the project's `.claude/settings.json` (created if missing; every other key and
rule kept). They are prefix rules, so they stop the plain shapes an agent would write, not a
determined one: the guarantee stays faber-db's own proof check; these narrow what is left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faber_db.errors import FaberError
from faber_db.files import write_atomic
from faber_db.handlers import known_tools

SETTINGS = Path(".claude/settings.json")

# raw tools that change (or read out) a database without faber-db's plan, approval and backup
DENY = [
    *(f"Bash({tool}:*)" for tool in ("psql", "pg_restore", "pg_dump", "dropdb", "createdb", "sqlite3")),
    # each migration tool's own commands that change a database
    *(f"Bash({runner} {' '.join(command)}:*)" for tool in known_tools().values() for runner in tool.runners
      for command in tool.changing_commands),
    # the approval key, the spent proofs and the audit anchors of this machine
    "Read(~/.local/state/faber-db/**)",
    "Edit(~/.local/state/faber-db/**)",
    "Write(~/.local/state/faber-db/**)",
]
# changes to what decides protection, or to what is deployed: a person looks first
ASK = [
    "Edit(.fractary/plugins/faber-db/**)",
    "Write(.fractary/plugins/faber-db/**)",
]


def write_claude_settings(project_root: Path) -> tuple[Path, list[str]]:
    """Merge the rules into `.claude/settings.json`; returns the file and the rules it added."""
    path = project_root / SETTINGS
    data, added = merged_settings(project_root)
    if added:
        write_atomic(path, json.dumps(data, indent=2) + "\n")
    return path, added


def merged_settings(project_root: Path) -> tuple[dict[str, Any], list[str]]:
    """The settings with faber-db's rules merged in, and the rules that were missing (nothing written:
    `init` calls this first, so a file it cannot read stops it before it writes anything)."""
    path = project_root / SETTINGS
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise FaberError("CONFIG_INVALID", f"{SETTINGS} is not valid JSON: {exc}",
                             "Fix it first; faber-db will not rewrite a settings file it cannot read.") from None
        if not isinstance(loaded, dict):
            raise FaberError("CONFIG_INVALID", f"{SETTINGS} must hold a JSON object",
                             "Fix it first; faber-db will not rewrite a settings file it cannot read.")
        data = loaded
    permissions = data.setdefault("permissions", {})
    if not isinstance(permissions, dict):
        raise FaberError("CONFIG_INVALID", f"{SETTINGS}: permissions must be an object",
                         "Make `permissions` a JSON object, then run init --claude-settings again.")
    added: list[str] = []
    for key, rules in (("deny", DENY), ("ask", ASK)):
        existing = permissions.setdefault(key, [])
        if not isinstance(existing, list):
            raise FaberError("CONFIG_INVALID", f"{SETTINGS}: permissions.{key} must be a list",
                             f"Make permissions.{key} a list of rule strings.")
        for rule in rules:
            if rule not in existing:
                existing.append(rule)
                added.append(rule)
    return data, added
