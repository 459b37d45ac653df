#!/usr/bin/env python3
"""Detect the Prisma project and write .fractary/plugins/faber-db/config.toml.

Usage: init.py [--force] [--format json|text] [--project DIR]
Exit codes: 0 written, 2 no Prisma schema, unsupported provider, or a config exists (without --force).
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # until launch.py points bytecode at the state dir
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lib"))
from faber_db.launch import run_command

run_command("init")
