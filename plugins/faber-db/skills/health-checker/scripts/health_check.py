#!/usr/bin/env python3
"""Check one environment: connectivity and latency, migration history, drift, performance.

Usage: health_check.py ENVIRONMENT [--checks connectivity,migrations,schema,performance] [--timeout S]
details.level is healthy / degraded / unhealthy. Exit codes: 0 healthy or degraded, 1 unhealthy,
2 bad input.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("health-check")
