"""What faber-db knows about Prisma without loading its handler (`faber_db.handlers.facts`): standard
library only, read by the approval hook with the system Python."""

from __future__ import annotations

from faber_db.handlers.facts import ToolFacts

EXIT_USAGE = 2  # faber_db.errors' exit codes (this module cannot import errors: errors reads it)
EXIT_FAILED = 1

FACTS = ToolFacts(
    name="prisma",
    display_name="Prisma",
    default_migrations_dir="prisma/migrations",
    history_table="_prisma_migrations",
    # Prisma's own schema and config locations
    project_files=("prisma/schema.prisma", "schema.prisma"),
    project_dirs=("prisma/schema",),
    own_folder="prisma",
    config_names=tuple(f"prisma.config.{ext}" for ext in ("ts", "mts", "js", "cjs", "mjs")),
    migrations_paths=("prisma/migrations",),
    # a relative `file:` path starts at the schema's folder
    url_file_bases=("prisma", ""),
    programs=frozenset({"prisma"}),
    entry_scripts=("prisma/build/index.js",),
    runners=("npx prisma", "prisma", "pnpm prisma", "yarn prisma", "bunx prisma"),
    changing_commands=(("migrate", "deploy"), ("migrate", "reset"), ("migrate", "resolve"), ("db", "push"),
                       ("db", "execute"), ("db", "seed")),
    variables=frozenset({"PRISMA_SCHEMA_ENGINE_BINARY", "PRISMA_QUERY_ENGINE_LIBRARY",
                         "PRISMA_USER_CONSENT_FOR_DANGEROUS_AI_ACTION"}),
    skill_scripts={
        "skills/handler-db-prisma/scripts/apply_migration.py": "migrate",
        "skills/handler-db-prisma/scripts/generate_migration.py": "generate-migration",
        "skills/handler-db-prisma/scripts/init.py": "init",
        "skills/handler-db-prisma/scripts/status.py": "status",
    },
    error_codes={
        "PRISMA_NOT_FOUND": (EXIT_USAGE, "The Prisma CLI was not found in the project."),
        "PRISMA_FAILED": (EXIT_FAILED, "A Prisma command failed; its redacted output is attached."),
        "PRISMA_TIMEOUT": (EXIT_FAILED, "A Prisma command did not finish within the timeout."),
        "PRISMA_ENGINE_UNAVAILABLE": (
            EXIT_FAILED, "Prisma could not download the engine binary it wanted (no network to its host)."),
    },
)
