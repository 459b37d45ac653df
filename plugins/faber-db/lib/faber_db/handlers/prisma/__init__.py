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
"""

from faber_db.handlers.prisma.handler import PrismaHandler
from faber_db.handlers.prisma.project import DetectedProject, detect_project

__all__ = ["DetectedProject", "PrismaHandler", "detect_project"]
