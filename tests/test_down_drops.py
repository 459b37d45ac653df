"""down.sql for changes that drop or alter something, written from the catalog of the database the
history was replayed into (faber_db/handlers/prisma/inverse.py invert_from_catalog, the catalog facts
and the rehearsal in faber_db/engines/rehearsal.py) instead of Prisma's reverse diff, a second Prisma
run. On real Prisma output (6.15 and 7.10.1), real SQLite and real PostgreSQL, for each shape: after
migration.sql, the derived down.sql gives the schema back exactly, and it leaves the database as
Prisma's own reverse diff does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faber import describe
from faber_db.engines import Catalog, open_database
from faber_db.handlers.prisma.inverse import invert_from_catalog
from harness import DEFAULT_MODELS, PrismaProject
from test_down_derived import prisma_diff, run_script
from test_generate import DEPLOYED, catalog, generate, setup_faber
from test_generate import project as project  # the fixture DEPLOYED names (explicit re-export)

pytestmark = pytest.mark.prisma_majors

BASE = DEFAULT_MODELS.replace("  name  String?\n}", """  name  String?
  age   Int     @default(0)
  bio   String  @default("x")
  posts Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  slug     String @unique
  title    String
  views    BigInt @default(0)
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])

  @@index([title])
  @@index([title, views])
}
""")
RELATION = "  author   User   @relation(fields: [authorId], references: [id])\n"
SHAPES = {
    "drop_column": BASE.replace('  bio   String  @default("x")\n', ""),
    "drop_indexed_column": BASE.replace("  title    String\n", "").replace(
        "  @@index([title])\n  @@index([title, views])\n", ""),
    "drop_table": BASE.replace("  posts Post[]\n", "").split("model Post")[0],
    "drop_index": BASE.replace("  @@index([title])\n", ""),
    "drop_unique": BASE.replace("slug     String @unique", "slug     String"),
    "drop_foreign_key": BASE.replace("  posts Post[]\n", "").replace(RELATION, ""),
    "alter_foreign_key": BASE.replace("references: [id])", "references: [id], onDelete: Cascade)"),
    "drop_foreign_key_column": BASE.replace("  posts Post[]\n", "").replace(RELATION, "").replace(
        "  authorId Int\n", ""),
    "drop_and_add": BASE.replace('  bio   String  @default("x")\n', '  nick  String?\n'),
}


def engine_catalog(project: PrismaProject) -> Catalog:
    """The shape drift compares (faber-db's engines), without the history table; columns without their
    position (a re-added column comes last, with Prisma's reverse diff as with the derived one)."""
    assert project.database_url is not None
    with open_database(project.provider, project.database_url, schema_dir=project.schema_path.parent) as db:
        shape = db.catalog(skip_tables=frozenset({"_prisma_migrations"}))
    columns = {key: value.rsplit(" #", 1)[0] for key, value in shape.get("column", {}).items()}
    return {**shape, "column": columns}


def snapshot(project: PrismaProject) -> tuple[list[tuple[Any, ...]], Catalog]:
    """The test's own schema listing (names and text) and faber-db's catalog (constraints too)."""
    return catalog(project), engine_catalog(project)


def derived_down(project: PrismaProject, up: str) -> str | None:
    assert project.database_url is not None
    with open_database(project.provider, project.database_url, schema_dir=project.schema_path.parent) as db:
        inverse = invert_from_catalog(up, db, "public" if project.major >= 7 else None)
    return None if inverse is None else inverse.sql


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_drops_are_undone_from_the_catalog_as_prismas_reverse_does(project: PrismaProject) -> None:
    project.write_schema(BASE)
    base = prisma_diff(project, "--from-migrations", "prisma/migrations", project.to_schema, project.schema_arg)
    project.add_migration("20240102000000_base", base)
    run_script(project, base)  # the database holds the whole history: the state before each change
    for shape, schema in SHAPES.items():
        before = snapshot(project)
        project.write_schema(schema)
        up = prisma_diff(project, "--from-migrations", "prisma/migrations", project.to_schema, project.schema_arg)
        reverse = prisma_diff(project, project.from_schema, project.schema_arg, "--to-migrations",
                              "prisma/migrations")
        down = derived_down(project, up)
        assert down is not None, (shape, up)
        assert snapshot(project) == before, "deriving changed the history database"
        run_script(project, up)
        assert snapshot(project) != before, shape
        run_script(project, down)
        assert snapshot(project) == before, (shape, up, down)  # as it was, names and text
        # Prisma's own reverse diff leaves the same shape
        run_script(project, up)
        run_script(project, reverse)
        assert engine_catalog(project) == before[1], (shape, reverse)
        run_script(project, up)
        run_script(project, down)
        assert snapshot(project) == before, shape


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_generate_writes_a_derived_down_for_a_drop(project: PrismaProject) -> None:
    env = setup_faber(project)
    before = catalog(project)
    project.write_schema(DEFAULT_MODELS.replace("  name  String?\n", ""))
    code, result, stderr = generate(project, env, "drop name")
    assert code == 0, describe(result, stderr)
    migration: dict[str, Any] = result["details"]["migration"]
    folder = project.migrations_dir / migration["name"]
    down = (folder / "down.sql").read_text()
    assert '"name"' in down, down
    # the loss the up migration causes is still reported; the derived down itself destroys nothing
    assert any(m.startswith("down.sql cannot bring back") for m in migration["down_data_loss"]), migration
    assert not any(m.startswith("down.sql itself destroys") for m in migration["down_data_loss"]), migration
    project.prisma("migrate", "deploy")
    assert catalog(project) != before
    project.execute_file(Path(folder / "down.sql"))
    assert catalog(project) == before


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_generate_writes_the_down_of_a_change_that_keeps_every_column(project: PrismaProject) -> None:
    """Dropping a unique index keeps every table and column the history made, so generate starts no
    replay of its own beside Prisma's (PostgreSQL, Prisma 6): the down script is still written from the
    history's catalog, replayed once it is asked for, and gives the index back."""
    env = setup_faber(project)
    before = catalog(project)
    project.write_schema(DEFAULT_MODELS.replace("  email String  @unique\n", "  email String\n"))
    code, result, stderr = generate(project, env, "drop the email index")
    assert code == 0, describe(result, stderr)
    folder = project.migrations_dir / result["details"]["migration"]["name"]
    down = (folder / "down.sql").read_text()
    assert "CREATE UNIQUE INDEX" in down and "DROP INDEX" not in down, down
    project.prisma("migrate", "deploy")
    assert catalog(project) != before
    project.execute_file(folder / "down.sql")
    assert catalog(project) == before


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_a_change_outside_the_derivation_keeps_prismas_reverse(project: PrismaProject) -> None:
    """A table with a trigger (SQLite) or an identity column (PostgreSQL): the rehearsal cannot give
    the schema back from what it derives, so nothing is derived and Prisma's reverse diff decides."""
    if project.provider == "sqlite":
        extra = ('CREATE TRIGGER "user_touch" AFTER UPDATE ON "User" BEGIN '
                 'UPDATE "User" SET "name" = "name" WHERE "id" = NEW."id"; END;\n')
    else:
        extra = 'CREATE TABLE "Log" ("n" INTEGER GENERATED ALWAYS AS IDENTITY);\n'
    project.add_migration("20240102000000_hand_written", extra)
    run_script(project, extra)
    dropped = DEFAULT_MODELS.replace("  name  String?\n", "")
    project.write_schema(dropped)
    up = prisma_diff(project, "--from-migrations", "prisma/migrations", project.to_schema, project.schema_arg)
    if project.provider == "postgresql":  # Prisma also drops the table it does not know; the identity stops us
        assert "Log" in up, up
    assert derived_down(project, up) is None, up
