#!/usr/bin/env python3
"""Show the audit trail (.fractary/plugins/faber-db/audit.jsonl); --verify checks its hash chain.

Usage: audit.py [ENVIRONMENT] [--since DATE] [--limit N] [--verify] [--format json|text]
Exit codes: 0 shown (chain intact with --verify), 1 AUDIT_TAMPERED (a line edited or deleted),
2 bad input.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("audit")
