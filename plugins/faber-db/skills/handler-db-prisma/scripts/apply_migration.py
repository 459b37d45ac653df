#!/usr/bin/env python3
"""Apply pending Prisma migrations to one environment: the migration-deployer workflow.

Usage: apply_migration.py ENVIRONMENT [--dry-run] [--approve PLAN_ID] [--skip-backup] [--backup]
                          [--skip-health-check] [--allow-destructive] [--timeout S]
--dry-run prints the plan (details.plan.plan_id, pending SQL, findings with live row counts) and
changes nothing. Protected environments need --approve PLAN_ID from a dry run the user approved.
Exit codes: 0 applied / up to date / dry run, 1 failed (details.restored says whether the backup was
restored), 2 bad input, 3 refused (approval missing, plan changed, destructive, backup required).
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("migrate")
