#!/usr/bin/env python3
"""Generate a Prisma migration from schema.prisma changes, with down.sql and a risk report.

Usage: generate_migration.py "DESCRIPTION" [--name NAME] [--preview] [--force] [--env ENV]
Writes prisma/migrations/<UTC timestamp>_<slug>/migration.sql (as `prisma migrate dev --create-only`
would) and down.sql; --preview writes nothing. Never touches the environment's database.
Exit codes: 0 generated / nothing to do, 1 Prisma failed, 2 bad input (name, schema error).
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("generate-migration")
