"""The backup target cannot take the backup (a path under a regular file, a backup folder that is a
file, a full filesystem): the deploy stops before any SQL runs, exit 1 BACKUP_FAILED, no new
_prisma_migrations row, every row and the schema unchanged."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import PrismaProject

from .conftest import PROVIDERS
from .helpers import approve_args, errcode, faber, history, init_faber, seed, snapshot

MIGRATION = 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\nUPDATE "User" SET "nick" = "email" WHERE "id" > 0;\n'


def under_a_file(root: Path) -> Path:
    blocker = root / "blocker"
    blocker.write_text("a regular file, not a folder\n")
    return blocker / "backups"


def folder_is_a_file(root: Path) -> Path:
    # the per-environment folder faber-db wants to create is a file already
    directory = root / "backups"
    directory.mkdir()
    for environment in ("staging", "production"):
        (directory / environment).write_text("not a folder\n")
    return directory


@contextlib.contextmanager
def full_filesystem(root: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs filled to the last byte (needs root and mount; skipped otherwise)."""
    mount_point = root / "tiny"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0777", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        (mount_point / "backups").mkdir()
        for environment in ("staging", "production"):
            (mount_point / "backups" / environment).mkdir()
        fd = os.open(mount_point / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 1024)
        except OSError:
            pass  # ENOSPC: full
        finally:
            os.close(fd)
        yield mount_point / "backups"
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


TARGETS: dict[str, Callable[[Path], contextlib.AbstractContextManager[Path]]] = {
    "under_a_regular_file": lambda root: contextlib.nullcontext(under_a_file(root)),
    "env_folder_is_a_file": lambda root: contextlib.nullcontext(folder_is_a_file(root)),
    "filesystem_full": full_filesystem,
}


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_unwritable_backup_target_stops_before_any_sql(project: PrismaProject, target: str, environment: str,
                                                       tmp_path: Path) -> None:
    # a few thousand rows so that no backup could fit in the full filesystem's last bytes
    seed(project, users=2000, posts=2000)
    with TARGETS[target](tmp_path) as backup_dir:
        env = init_faber(project, backup={"directory": str(backup_dir), "allow_outside_project": True})
        project.add_migration("20240201000000_nick", MIGRATION)
        extra = approve_args(project, env) if environment == "production" else []
        before = snapshot(project)
        history_before = history(project)

        code, result, stderr = faber(project, env, "migrate", environment, *extra)

        shown = json.dumps(result, indent=1) + "\n" + stderr[-2000:]
        assert code == 1, shown
        assert errcode(result) == "BACKUP_FAILED", shown
        assert result["details"]["applied"] == [], shown
        steps = {s["name"]: s["status"] for s in result["details"]["steps"]}
        assert steps.get("create_backup") == "failed", shown
        assert "deploy_migrations" not in steps, shown
        assert history(project) == history_before
        assert snapshot(project) == before
        assert not (project.root / ".fractary/plugins/faber-db/locks" / f"{environment}.journal.json").exists()
        # nothing half-written was left in the target
        if backup_dir.is_dir():
            leftovers = [p for p in backup_dir.rglob("*") if p.is_file() and p.name != "filler"
                         and p.parent.name in ("staging", "production") and p.stat().st_size > 0]
            assert leftovers == [], leftovers
