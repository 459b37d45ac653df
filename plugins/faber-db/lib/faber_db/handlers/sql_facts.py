"""What faber-db knows about the `sql` tool without loading its handler (`faber_db.handlers.facts`)."""

from __future__ import annotations

from faber_db.handlers.facts import ToolFacts

FACTS = ToolFacts(
    name="sql",
    display_name="the sql tool",
    default_migrations_dir="migrations",
    history_table="faber_db_migrations",
)
