"""A long SQLite deploy is left alone while it runs: faber-db reads nothing from the file then.

(A progress reader once polled the history table during `prisma migrate deploy`; each read takes a
shared lock on the SQLite file, and Prisma's write meeting it failed the migration with SQLITE_BUSY,
reported by the driver adapter as `SocketTimeout`, in most 50-migration deploys.)"""

from __future__ import annotations

import pytest
from lifecycle import Lifecycle

COUNT = 120


@pytest.mark.parametrize("lifecycle", ["sqlite"], indirect=True)
def test_a_hundred_and_twenty_migrations_deploy_to_staging_and_production(lifecycle: Lifecycle) -> None:
    life = lifecycle
    for i in range(COUNT):
        life.project.add_migration(f"2099010100{i:04d}_t{i}",
                                   f'CREATE TABLE "T{i}" ("id" INTEGER NOT NULL PRIMARY KEY, "v" TEXT);\n')
    expected = life.project.migration_names()
    assert len(expected) == COUNT + 1
    for environment in ("dev", "staging", "production"):
        plan = life.faber("migrate", environment, "--dry-run")["details"]["plan"]["plan_id"]
        result = life.faber("migrate", environment, "--approve", plan)
        assert result["status"] == "success", result
        assert result["details"]["applied"] == expected, result["details"]
        rows = life.rows("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL "
                         "ORDER BY migration_name", environment)
        assert [r["migration_name"] for r in rows] == expected
