#!/usr/bin/env python3
"""Create the environment's database when it does not exist (idempotent).

Usage: db_create.py ENVIRONMENT [--approve PLAN_ID] [--format json|text]
Exit codes: 0 created or already there, 1 failed, 2 bad input, 3 protected without approval.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("db-create")
