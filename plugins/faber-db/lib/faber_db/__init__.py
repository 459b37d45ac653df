"""faber-db: safe database migrations for Claude Code, people and CI pipelines.

Layout (one module per concern):
  cli         argparse front end; one sub-command per user command
  commands    one small function per user command (Alembic's command.py shape)
  config      the project's config file, validated
  errors      stable error codes, exit codes, FaberError
  results     the JSON result every command prints
  output      rendering results (JSON / text) and progress on stderr
  redact      the one place secrets are scrubbed from anything printed or logged
  handlers    migration-tool handlers; each tool's package is the only code that knows that tool
  engines     the databases themselves (SQLite, PostgreSQL): the only code that knows them
  backups     verified backups and restores: store, retention, verification (over engines)
  files       atomic file writes
  migrations  the local migrations folder
"""

__version__ = "0.1.0"
