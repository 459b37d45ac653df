"""Live row counts for findings: how many rows of each touched table exist in the database now."""

from __future__ import annotations

from faber_db.database import Database
from faber_db.errors import FaberError
from faber_db.results import Finding


def count_rows(findings: list[Finding], db: Database) -> None:
    """Fill `rows` with the live row count of each finding's table (None: the table does not exist).

    Each table is counted once, however many findings touch it.
    """
    counts: dict[str, int | None] = {}
    for finding in findings:
        if finding.table is None:
            continue
        if finding.table not in counts:
            counts[finding.table] = _count_one(db, finding.table)
        finding.rows = counts[finding.table]


def _count_one(db: Database, table: str) -> int | None:
    try:
        if not db.table_exists(table):
            return None
        return db.row_count(table)
    except FaberError:
        return None
