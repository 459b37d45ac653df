#!/usr/bin/env python3
"""Migration status of one environment, read from Prisma's `_prisma_migrations` table.

Usage: status.py ENVIRONMENT [--format json|text] [--project DIR]
Prints one JSON result (details: up_to_date, applied, pending, failed, rolled_back, modified,
missing_locally). Exit codes: 0 read (see details.up_to_date), 1 the database could not be read,
2 bad input (config, environment name, URL variable).
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("status")
