#!/usr/bin/env python3
"""Roll back applied migrations with their down.sql (newest first), or offer a backup restore.

Usage: rollback.py ENVIRONMENT [--last N | --to MIGRATION] [--dry-run] [--approve PLAN_ID]
                   [--allow-destructive] [--format json|text]
Exit codes: 0 rolled back (or dry run), 1 failed (restored from the pre-rollback backup when one was
taken) or no down.sql, 2 bad input, 3 approval missing, plan changed or destructive.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("rollback")
