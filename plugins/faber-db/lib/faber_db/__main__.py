"""`python3 -B -m faber_db …`: what the plugin's bin/faber-db launcher runs (see launch.py)."""

import sys

from faber_db.launch import plugin_main

sys.exit(plugin_main(sys.argv[1:]))
