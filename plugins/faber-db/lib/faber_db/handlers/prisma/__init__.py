"""The Prisma handler: the only code in faber-db that knows Prisma's files, tables, command lines
and output. Everything Prisma-shaped (schema.prisma, prisma.config.ts, `<name>/migration.sql`,
`_prisma_migrations`, P-codes, CLI flags of Prisma 6 and 7) lives in this package:

- handler.py   PrismaHandler, the object callers get from `faber_db.handlers.get_handler`
- cli.py       running the CLI: executable, version, environment, process groups, timeouts
- diff.py      `migrate diff` history -> schema (up) and back (down), the migration folder
- inverse.py   a purely additive migration's down script, without a second Prisma run
- history.py   the migration folders and the `_prisma_migrations` table (applied(), forget())
- project.py   detect_project, schema.prisma and prisma.config.ts parsing
- messages.py  P-codes -> faber-db error codes, hints
- facts.py     what the approval hook, the engines and the error table know of Prisma (stdlib only)

The package's names load on first use, so importing `facts` (the hook does) loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faber_db.handlers.prisma.handler import PrismaHandler
    from faber_db.handlers.prisma.project import DetectedProject, detect_project

__all__ = ["DetectedProject", "PrismaHandler", "detect_project"]

_HOMES = {"PrismaHandler": "handler", "DetectedProject": "project", "detect_project": "project"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
