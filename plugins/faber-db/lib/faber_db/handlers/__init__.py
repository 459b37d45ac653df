"""Migration-tool handlers, each implementing `base.MigrationHandler`, chosen by
`database.migration_tool` in the config: `prisma` (the package handlers/prisma/) and `sql` (plain SQL
migration files, handlers/sql.py). This module is the registry: a new tool is one entry in
`get_handler`, `known_tools` and (when `init` can find its projects) `detect_setup`.

Loading this module imports nothing else: the approval hook, the engines and `errors` call
`known_tools` (standard library only), so the handlers themselves are imported only when asked for.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from faber_db.config import LoadedConfig
    from faber_db.handlers.base import MigrationHandler, ToolSetup
    from faber_db.handlers.facts import ToolFacts

# the tool a config without `database.migration_tool` uses
DEFAULT_TOOL = "prisma"


@cache
def known_tools() -> dict[str, ToolFacts]:
    """Every registered tool's facts, by `database.migration_tool` name."""
    from faber_db.handlers.prisma.facts import FACTS as PRISMA
    from faber_db.handlers.sql_facts import FACTS as SQL

    return {facts.name: facts for facts in (PRISMA, SQL)}


def tool_facts(name: str) -> ToolFacts:
    """The facts of the tool `name`, or of the default tool for a name no tool has (the config check
    refuses such a name; the hook, reading a config it does not validate, assumes the default)."""
    tools = known_tools()
    return tools.get(name, tools[DEFAULT_TOOL])


def get_handler(loaded: LoadedConfig) -> MigrationHandler:
    from faber_db.errors import FaberError

    tool = loaded.config.database.migration_tool
    if tool == "prisma":
        from faber_db.handlers.prisma import PrismaHandler

        return PrismaHandler(loaded)
    if tool == "sql":
        from faber_db.handlers.sql import SqlHandler

        return SqlHandler(loaded)
    raise FaberError("PROVIDER_UNSUPPORTED", f"Migration tool {tool!r} is not supported",
                     f"Use one of: {', '.join(known_tools())}.")


def detect_setup(root: Path) -> ToolSetup:
    """The migration tool's project under `root` as `faber-db init` writes it (Prisma is the only tool
    with a project file); SCHEMA_NOT_FOUND when there is none."""
    from faber_db.handlers.prisma.setup import detect_setup as detect_prisma_setup

    return detect_prisma_setup(root)


def detect_sql_folder(root: Path) -> Path | None:
    """A plain SQL migrations folder under `root` (for `faber-db init` when there is no tool project)."""
    from faber_db.handlers.sql import detect_folder

    return detect_folder(root)
