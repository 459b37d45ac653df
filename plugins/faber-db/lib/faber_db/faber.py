"""FABER integration: which faber-db steps each FABER phase runs, and the `.faber.config.toml` hooks.

architect → generate-migration from the spec's description; build → migrate dev; evaluate →
migrate staging; release → dry run of production, then migrate production with approval.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faber_db.errors import FaberError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FABER_CONFIG = ".faber.config.toml"
PHASES = ("architect", "build", "evaluate", "release")

# phase -> (hook key in .faber.config.toml, the faber-db commands it runs)
HOOKS: dict[str, tuple[str, list[str]]] = {
    "architect": ("post_architect", ["faber-db:generate-migration '<description from spec>'"]),
    "build": ("pre_build", ["faber-db:migrate dev"]),
    "evaluate": ("pre_evaluate", ["faber-db:migrate staging"]),
    "release": ("pre_release", ["faber-db:migrate production --dry-run", "faber-db:migrate production"]),
}


@dataclass
class PhaseStep:
    command: list[str]  # argv of `faber-db`


def phase_steps(phase: str, *, description: str | None, approve: str | None,
                allow_destructive: bool = False) -> list[PhaseStep]:
    if phase == "architect":
        if not description:
            raise FaberError("INVALID_ARGUMENT", "The architect phase needs the change's description",
                             'Pass --description "what the spec changes", e.g. "add user profiles".')
        return [PhaseStep(["generate-migration", description])]
    if phase == "build":
        return [PhaseStep(["migrate", "dev"])]
    if phase == "evaluate":
        return [PhaseStep(["migrate", "staging"])]
    if phase == "release":
        if not approve:  # the dry run records the plan; the person approves it; then the apply
            return [PhaseStep(["migrate", "production", "--dry-run"]), PhaseStep(["migrate", "production"])]
        return [PhaseStep(["migrate", "production", "--approve", approve]
                          + (["--allow-destructive"] if allow_destructive else []))]
    raise FaberError("INVALID_ARGUMENT", f"Unknown FABER phase {phase!r}", f"Use one of: {', '.join(PHASES)}")


def merge_hooks(path: Path) -> tuple[dict[str, Any], bool]:
    """`.faber.config.toml` with faber-db's hooks added; every other key kept. Returns (data, had_comments)."""
    data: dict[str, Any] = {}
    had_comments = False
    if path.is_file():
        text = path.read_text("utf-8")
        had_comments = any(line.lstrip().startswith("#") or " #" in line for line in text.splitlines())
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FaberError("CONFIG_INVALID", f"{FABER_CONFIG} is not valid TOML: {exc}",
                             "Fix it first; faber-db will not overwrite a file it cannot read.") from None
    workflow = data.setdefault("workflow", {})
    if not isinstance(workflow, dict):
        raise FaberError("CONFIG_INVALID", f"{FABER_CONFIG}: workflow must be a table",
                         "Make [workflow] a TOML table, then run init --faber again.")
    for phase, (key, commands) in HOOKS.items():
        table = workflow.setdefault(phase, {})
        if not isinstance(table, dict):
            raise FaberError("CONFIG_INVALID", f"{FABER_CONFIG}: workflow.{phase} must be a table",
                             f"Make [workflow.{phase}] a TOML table.")
        existing = table.get(key, [])
        if not isinstance(existing, list):
            raise FaberError("CONFIG_INVALID", f"{FABER_CONFIG}: workflow.{phase}.{key} must be a list",
                             f"Make {key} a list of command strings.")
        table[key] = existing + [c for c in commands if c not in existing]
    return data, had_comments


def add_phase_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("phase", choices=PHASES, help="the FABER phase whose database steps to run")
    parser.add_argument("--work-id", help="the work item (recorded in the audit trail)")
    parser.add_argument("--description", help="architect: what the change does (the migration's name)")
    parser.add_argument("--approve", metavar="PLAN_ID", help="release: the approved production plan id")
    parser.add_argument("--allow-destructive", action="store_true", help="release: allow destructive statements")


def write_hooks(root: Path) -> tuple[Path, list[str]]:
    """Add the hooks to `.faber.config.toml`. A file without a [workflow] table gets them appended
    as text, so its comments and layout stay; otherwise it is rewritten (TOML writers drop comments)."""
    import tomli_w

    path = root / FABER_CONFIG
    data, had_comments = merge_hooks(path)
    warnings: list[str] = []
    original = path.read_text("utf-8") if path.is_file() else ""
    parsed = tomllib.loads(original) if original else {}
    if parsed == data:
        return path, warnings  # the hooks are there already: leave the file alone
    if "workflow" not in parsed:
        block = tomli_w.dumps({"workflow": data["workflow"]})
        separator = "" if not original or original.endswith("\n\n") else ("\n" if original.endswith("\n") else "\n\n")
        text = original + separator + "# faber-db phase hooks (faber-db init --faber)\n" + block
    else:
        text = tomli_w.dumps(data)
        if had_comments:
            warnings.append(f"{FABER_CONFIG} was rewritten to merge the hooks: its comments were not kept "
                            "(TOML writers cannot preserve them); every setting was.")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)
    return path, warnings
