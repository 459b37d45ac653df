#!/usr/bin/env python3
"""Restore one environment from a verified backup.

Usage: restore.py ENVIRONMENT --from BACKUP_ID [--dry-run] [--approve PLAN_ID] [--format json|text]
Checks the backup's sha256, backs up the current state first, restores atomically, then verifies
rows, content checksums and schema against the manifest. Protected environments need --approve with
the plan id of a dry run the user approved. Exit codes: 0 restored (or dry run), 1 failed (corrupt
backup, restore error; nothing changed), 2 bad input, 3 approval missing or plan changed.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("restore")
