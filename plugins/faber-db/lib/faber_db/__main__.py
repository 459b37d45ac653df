"""`python3 -B -m faber_db …`: what the plugin's bin/faber-db launcher runs (see launch.py)."""

import sys

from faber_db.cli import exit_process
from faber_db.launch import plugin_main

exit_process(plugin_main(sys.argv[1:]))
