"""Test harness for faber-db: the real Prisma 6.15 CLI (offline, driver-adapter mode) on SQLite
and on a private PostgreSQL server.

Nothing here reads /work/shared: the npm kit and prisma.config files live in tests/kit.
"""

from .db import migration_checksum, migration_rows, pg_query, query, sqlite_query
from .kit import KIT_DIR, PRISMA_VERSION, cache_dir, config_file, ensure_kit, kit_lock_hash
from .postgres import FABER_PASSWORD, FABER_USER, SUPERUSER, PostgresServer, find_bin_dir, free_port
from .prisma import (
    DEFAULT_MODELS,
    MIGRATION_LOCK_TEXT,
    PrismaError,
    PrismaProject,
    Provider,
    diff_sql_from_empty,
    init_migration,
    make_project,
    prisma_env,
    schema_text,
)
from .templates import (
    EMPTY_PG_TEMPLATE,
    Migration,
    SessionCache,
    attach_pg,
    attach_sqlite,
    clone_pg,
    copy_sqlite,
    pg_template,
    seal_pg_template,
    sqlite_template,
    sqlite_url,
    unique_db_name,
)

__all__ = [
    "DEFAULT_MODELS",
    "EMPTY_PG_TEMPLATE",
    "FABER_PASSWORD",
    "FABER_USER",
    "KIT_DIR",
    "MIGRATION_LOCK_TEXT",
    "PRISMA_VERSION",
    "SUPERUSER",
    "Migration",
    "PostgresServer",
    "PrismaError",
    "PrismaProject",
    "Provider",
    "SessionCache",
    "attach_pg",
    "attach_sqlite",
    "cache_dir",
    "clone_pg",
    "config_file",
    "copy_sqlite",
    "diff_sql_from_empty",
    "ensure_kit",
    "find_bin_dir",
    "free_port",
    "init_migration",
    "kit_lock_hash",
    "make_project",
    "migration_checksum",
    "migration_rows",
    "pg_query",
    "pg_template",
    "prisma_env",
    "query",
    "schema_text",
    "seal_pg_template",
    "sqlite_query",
    "sqlite_template",
    "sqlite_url",
    "unique_db_name",
]
