#!/usr/bin/env python3
"""List the backups of one environment, newest first.

Usage: backups.py ENVIRONMENT [--format json|text] [--project DIR]
Exit codes: 0 listed, 2 bad input.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("backups")
