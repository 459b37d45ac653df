#!/usr/bin/env python3
"""Take a verified backup of one environment (SQLite online backup API / pg_dump -Fc).

Usage: backup.py ENVIRONMENT [--label L] [--format json|text] [--project DIR]
The backup and its manifest (id, size, sha256, applied migrations, row counts, checksums) go under
the configured backup directory; retention prunes old ones. Exit codes: 0 taken and verified,
1 the backup failed (nothing left behind), 2 bad input.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("backup")
