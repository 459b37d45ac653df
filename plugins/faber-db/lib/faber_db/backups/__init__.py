"""Verified backups and verified restores, with the databases' own tools.

SQLite: the online backup API (`sqlite3.Connection.backup`); PostgreSQL: `pg_dump -Fc` and
`pg_restore` (faber_db.engines.sqlite / faber_db.engines.postgres_archive say how each is taken,
checked and put back). This package is what callers use: `create_backup` takes a backup with the
engine, checksums the file and writes its manifest (`store`); `restore_backup` checks the file's
sha256, restores it with the engine and compares the result with the manifest (`verification`);
`prune_backups` applies retention and `remove_leftovers` clears what killed backups left (`retention`).

Verification before `create_backup` returns:
- SQLite: the backup is copied from inside one read transaction on the live database; the live
  snapshot (row counts, content checksums, schema hash) is taken inside that same transaction, so
  it describes exactly the copied state. The copy must pass `PRAGMA integrity_check` and its own
  snapshot must equal the live one.
- PostgreSQL: `pg_dump` dumps the snapshot exported by the transaction that computes the
  checksums; `pg_restore --list` must read the archive and list one TABLE DATA entry per table.

Content checksums. SQLite: sha256 over the rows in primary-key order (then all columns), computed
in-process. PostgreSQL: the row count plus the sum of `hashtextextended(row::text, 0)` over the
table: an order-independent 64-bit multiset hash, computed by the server with no sort and no
large string (md5 over a string_agg is ~4x slower and capped at 1 GB of text). It is the same
function hash partitioning relies on, so it is stable across server upgrades. Session settings
that change a row's text form (TimeZone, DateStyle, extra_float_digits, ...) are pinned first.

Restore on SQLite: the backup is copied through the backup API into a temp file next to the live
database, verified there, fsynced, and moved over the live file with `os.replace` while holding the
live database's write lock (WAL checkpointed and truncated first, a hot journal rolled back by the
open), then the stale -wal/-shm are removed. A process killed at any point leaves the old file or
the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from faber_db import __version__
from faber_db.backups.retention import prune_backups, remove_leftovers
from faber_db.backups.store import (
    BackupManifest,
    backup_file,
    check_integrity,
    env_dir,
    list_backups,
    load_manifest,
    new_id,
    schemas_of,
    sha256_file,
)
from faber_db.backups.verification import DataSnapshot, diff_snapshots, take_snapshot, verify_restored
from faber_db.engines import Database, engine
from faber_db.engines.model import Progress, say
from faber_db.errors import FaberError
from faber_db.files import fsync_dir, fsync_file, write_json_atomic
from faber_db.redact import redact

__all__ = [
    "SUPPORTED_BACKUP_PROVIDERS",
    "BackupManifest",
    "DataSnapshot",
    "check_integrity",
    "create_backup",
    "diff_snapshots",
    "list_backups",
    "load_manifest",
    "prune_backups",
    "remove_leftovers",
    "restore_backup",
    "schemas_of",
    "take_snapshot",
]

SUPPORTED_BACKUP_PROVIDERS = ("local",)


def create_backup(
    *,
    provider: str,
    url: str,
    schema_dir: Path,
    backup_dir: Path,
    environment: str,
    migrations: list[str],
    label: str | None = None,
    provider_name: str = "local",
    progress: Progress | None = None,
    compression: int = 1,
    connection: Database | None = None,
    schemas: Sequence[str] = (),
    audit_head: dict[str, Any] | None = None,
) -> BackupManifest:
    """Take a backup, verify it, write its manifest; BACKUP_FAILED (nothing left behind) otherwise.

    `schemas` (PostgreSQL): the schemas the migration tool manages besides the URL's (the handler's
    `database_schemas()`); the backup covers the URL's schema and those.

    `compression`: pg_dump's gzip level (0-9). The default 1 dumps about twice as fast as pg_dump's
    own default for files a few percent larger: a pre-deploy backup is on the critical path."""
    if not 0 <= compression <= 9:
        raise FaberError("CONFIG_INVALID", f"backup.compression: {compression} is not a gzip level",
                         "Use 0 (none) to 9 (smallest); 1 is the fast default.")
    if provider_name not in SUPPORTED_BACKUP_PROVIDERS:
        raise FaberError(
            "PROVIDER_UNSUPPORTED",
            f"Backup provider {provider_name!r} is not supported yet",
            "Set [backup] provider = \"local\" in the faber-db config (cloud snapshots such as "
            "aws-rds-snapshot or gcp-sql-snapshot are not supported yet); no backup was taken.",
        )
    db_engine = engine(provider)
    folder = env_dir(backup_dir, environment)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    backup_id = new_id(now)
    suffix = db_engine.backup_suffix
    final = folder / f"{backup_id}{suffix}"
    manifest_path = folder / f"{backup_id}.json"
    tmp = folder / f".{backup_id}{suffix}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".{backup_id}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise FaberError(
            "BACKUP_FAILED",
            f"The backup folder cannot be written: {exc.strerror or exc}",
            f"Check that {folder} exists and is writable, or set [backup] directory in the config.",
        ) from None
    try:
        taken = db_engine.backup(url=url, schema_dir=schema_dir, dest=tmp, progress=progress,
                                 compression=compression, connection=connection, schemas=schemas)
        fsync_file(tmp)
        os.replace(tmp, final)
        fsync_dir(folder)
        size = final.stat().st_size
        say(progress, "checksumming the backup file")
        digest = sha256_file(final)
        manifest = BackupManifest(
            id=backup_id,
            environment=environment,
            provider=provider,
            created_at=now.isoformat().replace("+00:00", "Z"),
            file=final.name,
            size_bytes=size,
            sha256=digest,
            label=label,
            migrations=list(migrations),
            snapshot=taken.snapshot,
            tool_versions={**taken.tool_versions, "faber-db": __version__},
            verified=True,
            verification=taken.verification,
            pg_schema=taken.schemas[0] if taken.schemas else None,
            pg_schemas=taken.schemas,
            audit_head=audit_head,
        )
        write_json_atomic(manifest_path, manifest.to_dict())
        say(progress, f"backup {backup_id} verified ({size} bytes)")
        return manifest
    except BaseException as exc:
        for leftover in (tmp, final, manifest_path):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if isinstance(exc, FaberError):
            raise
        if isinstance(exc, OSError):
            raise FaberError(
                "BACKUP_FAILED",
                f"The backup could not be written: {redact(exc.strerror or str(exc))}",
                "Check free space and permissions of the backup folder; nothing was left behind.",
            ) from None
        raise


def restore_backup(
    manifest: BackupManifest,
    *,
    url: str,
    schema_dir: Path,
    backup_dir: Path,
    progress: Progress | None = None,
) -> DataSnapshot:
    """Restore `manifest`'s backup over the database of `url`, then verify the data equals the
    manifest's snapshot (RESTORE_FAILED with the differences otherwise). Returns the new snapshot."""
    check_integrity(manifest, backup_dir)
    snap = engine(manifest.provider).restore(
        archive=backup_file(manifest, backup_dir), url=url, schema_dir=schema_dir, expected=manifest.snapshot,
        schemas=schemas_of(manifest), backup_id=manifest.id,
        progress=progress)
    verify_restored(manifest, snap)
    say(progress, f"restored backup {manifest.id}; rows and checksums match")
    return snap
