"""`python -m faber_db …` — what the plugin's bin/faber-db launcher runs."""

import sys

from faber_db.launch import ensure_runtime

ensure_runtime()

from faber_db.cli import main  # noqa: E402  (after the runtime exists)

sys.exit(main())
