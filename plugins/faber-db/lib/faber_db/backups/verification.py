"""Verification: what a database holds now, compared with what a backup's manifest says it held."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from faber_db.engines.model import DataSnapshot, diff_snapshots
from faber_db.errors import FaberError

if TYPE_CHECKING:
    from faber_db.backups.store import BackupManifest
    from faber_db.engines import Database

__all__ = ["DataSnapshot", "diff_snapshots", "take_snapshot", "verify_restored"]


def take_snapshot(db: Database, schemas: Sequence[str] = ()) -> DataSnapshot:
    """Row counts, content checksums and a schema hash of `db` (see faber_db.backups); `schemas`:
    PostgreSQL schemas besides the URL's (a multiSchema backup's: `store.schemas_of(manifest)`)."""
    return db.snapshot(schemas)


def verify_restored(manifest: BackupManifest, snapshot: DataSnapshot) -> None:
    """RESTORE_FAILED, with each difference, unless `snapshot` equals the manifest's."""
    differences = diff_snapshots(manifest.snapshot, snapshot)
    if differences:
        raise FaberError(
            "RESTORE_FAILED",
            f"The restored database does not match backup {manifest.id}",
            "Restore again from this or another backup; investigate before deploying.",
            details={"differences": differences, "backup_id": manifest.id},
        )
