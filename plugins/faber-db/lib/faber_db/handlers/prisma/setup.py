"""`faber-db init` for a Prisma project: the `[prisma]` section it writes, and what to tell the person."""

from __future__ import annotations

from pathlib import Path

from faber_db.config import PrismaConfig
from faber_db.handlers.base import ToolSetup
from faber_db.handlers.prisma.project import detect_project


def detect_setup(root: Path) -> ToolSetup:
    """The Prisma project under `root` as init writes it; SCHEMA_NOT_FOUND when there is none."""
    detected = detect_project(root)
    prisma_bin = root / "node_modules" / ".bin" / "prisma"
    warnings = [] if prisma_bin.exists() else [
        "The Prisma CLI is not installed in this project yet (node_modules/.bin/prisma)."
    ]
    if detected.urls.unreadable:
        warnings.append(f"{detected.urls.unreadable}: faber-db can point Prisma at an environment only through "
                        "a variable; read the URL with env(\"DATABASE_URL\") (any name) before migrating.")
    section = PrismaConfig(schema=_rel(detected.schema, root), migrations_dir=_rel(detected.migrations_dir, root),
                           config_file=_rel(detected.config_file, root) if detected.config_file else None)
    shadow = detected.urls.shadow
    return ToolSetup(
        tool="prisma", provider=detected.provider, section=section, schema=section.schema,
        migrations_dir=section.migrations_dir, tool_config=section.config_file,
        tool_command=[str(prisma_bin.relative_to(root))] if prisma_bin.exists() else [],
        tool_version=detected.version, url_env=list(detected.urls.url),
        shadow_env=shadow.name if shadow else None, warnings=warnings,
        suggested_fixes=["npm install --save-dev prisma"] if warnings else [])


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
