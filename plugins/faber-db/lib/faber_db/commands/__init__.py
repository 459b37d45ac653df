"""One module per user command, each a small `run(ctx, args) -> Result` over the runtime layer.

The table below is all the CLI needs to know; modules are imported only when their command runs
(or when --help lists them), which keeps `faber-db status` fast.
"""

from __future__ import annotations

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("faber_db.commands.init", "Detect the migration project and write the faber-db config"),
    "status": ("faber_db.commands.status", "Applied, pending, failed and modified migrations of an environment"),
    "migrate": ("faber_db.commands.migrate", "Apply pending migrations safely: dry run, approval, backup, restore"),
    "generate-migration": ("faber_db.commands.generate", "Generate a migration (and its down.sql) from schema changes"),
    "backup": ("faber_db.commands.backup", "Take a verified backup of an environment"),
    "backups": ("faber_db.commands.backups", "List an environment's backups"),
    "restore": ("faber_db.commands.restore", "Restore an environment from a verified backup"),
    "rollback": ("faber_db.commands.rollback", "Undo applied migrations with their down.sql"),
    "health-check": ("faber_db.commands.health", "Check an environment's database: connectivity, migrations, drift"),
    "db-create": ("faber_db.commands.db_create", "Create the environment's database if it does not exist"),
    "audit": ("faber_db.commands.audit", "Show the audit trail; --verify checks its hash chain"),
    "faber": ("faber_db.commands.faber_phase",
              "Run a FABER phase's database steps (architect, build, evaluate or release)"),
}
