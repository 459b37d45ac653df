#!/usr/bin/env python3
"""Run a FABER phase's database steps in order; stop at the first failure or approval need.

Usage: faber_phase.py PHASE [--description D] [--approve PLAN_ID] [--allow-destructive] [--work-id N]
PHASE: architect (generate-migration from --description), build (migrate dev), evaluate (migrate
staging), release (dry run of production, then migrate production with --approve).
One result; details.steps holds each step's own result. Exit codes: 0 done, 1 a step failed,
2 bad input, 3 a step needs approval (release without --approve) or was refused.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("faber")
