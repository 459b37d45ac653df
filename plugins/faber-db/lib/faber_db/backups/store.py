"""Where backups live and how they are told apart: ids, manifests, listing, integrity.

Layout: `<backup dir>/<environment>/<id>.json` (the manifest) beside `<id>.sqlite` or `<id>.dump`.
Ids sort by time: `20261124T180102Z-3f9a`. Manifests never hold a connection URL or a password:
they are built from named fields only. Only files with a manifest faber-db wrote are listed or
pruned; anything else in the folder is left alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from faber_db.engines.model import DataSnapshot
from faber_db.errors import FaberError

_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4,}$")
_MANIFEST_VERSION = 1


@dataclass
class BackupManifest:
    id: str
    environment: str
    provider: str
    created_at: str
    file: str
    size_bytes: int
    sha256: str
    label: str | None
    migrations: list[str]
    snapshot: DataSnapshot
    tool_versions: dict[str, str]
    verified: bool
    verification: str
    # PostgreSQL: the URL's schema, and every schema the backup is responsible for (the URL's
    # first; multiSchema adds the tool's); None on SQLite. Older manifests have pg_schema only.
    pg_schema: str | None = None
    pg_schemas: list[str] | None = None
    manifest_version: int = _MANIFEST_VERSION
    # the audit trail's head when the backup was taken (an anchor `audit --verify` checks)
    audit_head: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["snapshot"] = self.snapshot.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackupManifest:
        return cls(
            id=str(data["id"]),
            environment=str(data["environment"]),
            provider=str(data["provider"]),
            created_at=str(data["created_at"]),
            file=str(data["file"]),
            size_bytes=int(data["size_bytes"]),
            sha256=str(data["sha256"]),
            label=None if data.get("label") is None else str(data["label"]),
            migrations=[str(m) for m in data.get("migrations") or []],
            snapshot=DataSnapshot.from_dict(dict(data.get("snapshot") or {})),
            tool_versions={str(k): str(v) for k, v in dict(data.get("tool_versions") or {}).items()},
            verified=bool(data.get("verified")),
            verification=str(data.get("verification") or ""),
            pg_schema=None if data.get("pg_schema") is None else str(data["pg_schema"]),
            pg_schemas=None if data.get("pg_schemas") is None else [str(s) for s in data["pg_schemas"]],
            manifest_version=int(data.get("manifest_version") or _MANIFEST_VERSION),
            audit_head=dict(data["audit_head"]) if isinstance(data.get("audit_head"), dict) else None,
        )


def schemas_of(manifest: BackupManifest) -> list[str]:
    """The schemas a PostgreSQL backup is responsible for (empty for SQLite)."""
    if manifest.pg_schemas:
        return list(manifest.pg_schemas)
    return [manifest.pg_schema] if manifest.pg_schema else []


def env_dir(backup_dir: Path, environment: str) -> Path:
    if not environment or "/" in environment or "\\" in environment or environment in (".", ".."):
        raise FaberError("INVALID_ARGUMENT", f"Unusable environment name {environment!r} for a backup folder",
                         "Use an environment name from the config.")
    return backup_dir / environment


def new_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def list_backups(backup_dir: Path, environment: str) -> list[BackupManifest]:
    """Every readable faber-db manifest of the environment, newest first."""
    folder = env_dir(backup_dir, environment)
    if not folder.is_dir():
        return []
    found: list[BackupManifest] = []
    for path in folder.glob("*.json"):
        if not _ID_RE.match(path.stem):
            continue
        try:
            manifest = BackupManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or damaged: never listed, never pruned
        if manifest.id == path.stem and manifest.environment == environment:
            found.append(manifest)
    found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return found


def load_manifest(backup_dir: Path, environment: str, backup_id: str) -> BackupManifest:
    hint = f"List the backups with `faber-db backups {environment}`."
    if not _ID_RE.match(backup_id):
        raise FaberError("BACKUP_NOT_FOUND", f"No backup {backup_id!r} for {environment}", hint)
    path = env_dir(backup_dir, environment) / f"{backup_id}.json"
    try:
        manifest = BackupManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FaberError("BACKUP_NOT_FOUND", f"No backup {backup_id!r} for {environment}", hint) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FaberError("BACKUP_CORRUPT", f"The manifest of backup {backup_id} cannot be read: {exc}",
                         "Restore from another backup.") from None
    if manifest.id != backup_id or manifest.environment != environment:
        raise FaberError("BACKUP_CORRUPT", f"The manifest of backup {backup_id} names another backup",
                         "Restore from another backup.")
    return manifest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def backup_file(manifest: BackupManifest, backup_dir: Path) -> Path:
    name = Path(manifest.file).name
    if name != manifest.file or not name.startswith(manifest.id):
        raise FaberError("BACKUP_CORRUPT", f"The manifest of backup {manifest.id} names an unexpected file",
                         "Restore from another backup.")
    return env_dir(backup_dir, manifest.environment) / name


def check_integrity(manifest: BackupManifest, backup_dir: Path) -> None:
    """The backup file exists and its size and sha256 equal the manifest's; else BACKUP_CORRUPT."""
    path = backup_file(manifest, backup_dir)
    hint = "The file changed after it was written; restore from another backup (`faber-db backups`)."
    try:
        size = path.stat().st_size
        actual = sha256_file(path)
    except FileNotFoundError:
        raise FaberError("BACKUP_CORRUPT", f"The file of backup {manifest.id} is missing", hint) from None
    except OSError as exc:
        raise FaberError("BACKUP_CORRUPT", f"The file of backup {manifest.id} cannot be read: "
                         f"{exc.strerror}", hint) from None
    if size != manifest.size_bytes or actual != manifest.sha256:
        raise FaberError(
            "BACKUP_CORRUPT",
            f"Backup {manifest.id} does not match its manifest checksum",
            hint,
            details={"backup_id": manifest.id, "expected_sha256": manifest.sha256, "actual_sha256": actual,
                     "expected_size": manifest.size_bytes, "actual_size": size},
        )
