"""Migration-tool handlers, each implementing `base.MigrationHandler`, chosen by
`database.migration_tool` in the config: `prisma` (the package handlers/prisma/) and `sql` (plain SQL
migration files, handlers/sql.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faber_db.errors import FaberError

if TYPE_CHECKING:
    from pathlib import Path

    from faber_db.config import LoadedConfig
    from faber_db.handlers.base import MigrationHandler
    from faber_db.handlers.prisma import DetectedProject


def get_handler(loaded: LoadedConfig) -> MigrationHandler:
    tool = loaded.config.database.migration_tool
    if tool == "prisma":
        from faber_db.handlers.prisma import PrismaHandler

        return PrismaHandler(loaded)
    if tool == "sql":
        from faber_db.handlers.sql import SqlHandler

        return SqlHandler(loaded)
    raise FaberError("PROVIDER_UNSUPPORTED", f"Migration tool {tool!r} is not supported", "Use prisma or sql.")


def detect_project(root: Path) -> DetectedProject:
    """The migration tool's project under `root`, for `faber-db init` (Prisma is the only tool)."""
    from faber_db.handlers.prisma import detect_project as detect_prisma_project

    return detect_prisma_project(root)


def detect_sql_folder(root: Path) -> Path | None:
    """A plain SQL migrations folder under `root` (for `faber-db init` when there is no Prisma project)."""
    from faber_db.handlers.sql import detect_folder

    return detect_folder(root)
