"""down.sql for purely additive changes is derived from the up script instead of a second Prisma run
(faber_db/handlers/prisma/inverse.py). These tests hold it to Prisma's own reverse diff on real
Prisma output: the same statements, and applied to a real database after the up script, the schema
is back where it was. Changes that drop or alter something: tests/test_down_drops.py."""

from __future__ import annotations

import pytest
from faber import describe
from faber_db.engines import open_database
from faber_db.handlers.prisma.inverse import invert_additive, split_statements
from faber_db.safety import analyze_sql, data_loss_message
from harness import DEFAULT_MODELS, PrismaProject
from test_generate import DEPLOYED, catalog, generate, setup_faber
from test_generate import project as project  # the fixture DEPLOYED names (explicit re-export)

pytestmark = pytest.mark.prisma_majors

RELATION = (DEFAULT_MODELS + """
model Post {
  id       Int    @id @default(autoincrement())
  slug     String @unique
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])

  @@index([title])
}
""").replace("  name  String?\n}", "  name  String?\n  posts Post[]\n}")
INDEX_ONLY = DEFAULT_MODELS.replace("  name  String?\n}", "  name  String?\n\n  @@index([name])\n}")
ENUM_AND_COLUMNS = """
enum Role {
  ADMIN
  MEMBER
}
""" + DEFAULT_MODELS.replace("  name  String?\n}",
                             "  name  String?\n  role  Role    @default(MEMBER)\n  nick  String?\n}")
ADDITIVE = {"relation": RELATION, "index": INDEX_ONLY, "enum_columns": ENUM_AND_COLUMNS}


def prisma_diff(project: PrismaProject, *flags: str) -> str:
    url = f"file:{project.root / 'oracle.db'}" if project.provider == "sqlite" else project.database_url
    out: str = project.prisma("migrate", "diff", *flags, "--script", database_url=url).stdout
    (project.root / "oracle.db").unlink(missing_ok=True)
    return out


def run_script(project: PrismaProject, sql: str) -> None:
    assert project.database_url is not None
    with open_database(project.provider, project.database_url, schema_dir=project.schema_path.parent) as db:
        db.run_script(sql)


def statements(sql: str) -> list[str]:
    found = split_statements(sql)
    assert found is not None
    return found


@pytest.mark.parametrize("change", sorted(ADDITIVE))
@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_derived_down_is_prismas_reverse_and_restores_the_schema(project: PrismaProject, change: str) -> None:
    before = catalog(project)
    project.write_schema(ADDITIVE[change])
    up = prisma_diff(project, "--from-migrations", "prisma/migrations", project.to_schema, project.schema_arg)
    reverse = prisma_diff(project, project.from_schema, project.schema_arg, "--to-migrations", "prisma/migrations")
    # Prisma 7 qualifies its reverse diff's names with the datasource's schema (its forward one does not)
    inverse = invert_additive(up, project.provider, "public" if project.major >= 7 else None)
    if project.provider == "sqlite" and change == "enum_columns":
        # SQLite: Prisma drops a column by redefining the table; that stays Prisma's job
        assert inverse is None
        return
    assert inverse is not None, (up, reverse)
    derived = inverse.sql
    # what it says it drops is what the safety analysis finds in it (the data-loss report uses it)
    history = [p.read_text() for p in sorted(project.migrations_dir.glob("*/migration.sql"))]
    analysed = analyze_sql(derived, project.provider, history=[*history, up])
    assert [data_loss_message(t, c) for t, c in inverse.drops] == [
        f.message for f in analysed if f.severity in ("high", "critical")]
    # the same statements as Prisma's reverse diff (Prisma also drops a new table's own indexes
    # with the table, without a DROP INDEX)
    assert sorted(statements(derived)) == sorted(statements(reverse)), (derived, reverse)

    # applied through faber-db's engine, as test_down_drops does (a Prisma start each would double this
    # test's Prisma work); `prisma db execute` runs the generated down.sql in the generate tests below
    run_script(project, up)
    assert catalog(project) != before
    run_script(project, derived)
    assert catalog(project) == before


@pytest.mark.parametrize("project", DEPLOYED, indirect=True)
def test_generate_writes_the_derived_down_and_it_restores(project: PrismaProject) -> None:
    env = setup_faber(project)
    before = catalog(project)
    project.write_schema(RELATION)
    code, result, stderr = generate(project, env, "add posts")
    assert code == 0, describe(result, stderr)
    folder = project.migrations_dir / result["details"]["migration"]["name"]
    down = (folder / "down.sql").read_text()
    # the user is still told that rolling back drops the new table's rows
    assert any(m.startswith("down.sql itself destroys data") and '"Post"' in m
               for m in result["details"]["migration"]["down_data_loss"]), result["details"]["migration"]
    assert "DROP TABLE" in down and '"Post"' in down, down
    project.prisma("migrate", "deploy")
    project.execute_file(folder / "down.sql")
    assert catalog(project) == before


@pytest.mark.parametrize("sql", [
    'CREATE TABLE "a" ("id" INTEGER);\nDROP TABLE "b";\n',
    'ALTER TABLE "User" ADD COLUMN "x" TEXT, DROP COLUMN "name";\n',
    'CREATE TABLE IF NOT EXISTS "t" ("id" INTEGER);\n',
    'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n',
    'ALTER TYPE "Role" ADD VALUE \'C\';\n',
    'CREATE TABLE "a" ("id" INTEGER, "v" TEXT DEFAULT \'unterminated);\n',
    "-- only a comment\n",
    'UPDATE "User" SET name = \'x\';\n',
], ids=["drop", "mixed_alter", "if_not_exists", "dollar", "alter_enum", "unterminated", "comment", "update"])
def test_anything_but_plain_creation_is_left_to_prisma(sql: str) -> None:
    assert invert_additive(sql, "postgresql") is None
    assert invert_additive(sql, "sqlite") is None


def test_quoted_text_is_kept_exactly() -> None:
    sql = ('-- CreateTable\nCREATE TABLE "odd  name;x" (\n    "v" TEXT DEFAULT \'a;  b\'\n);\n\n'
           '-- CreateIndex\nCREATE INDEX "i  j" ON "User"("name");\n')
    inverse = invert_additive(sql, "postgresql")
    assert inverse is not None and inverse.sql == (
        '-- DropIndex\nDROP INDEX "i  j";\n\n-- DropTable\nDROP TABLE "odd  name;x";\n')
    assert inverse.drops == [("odd  name;x", None)]
    qualified = sql.replace('"odd  name;x"', '"my schema"."odd  name;x"').replace('ON "User"', 'ON "s"."User"')
    inverse = invert_additive(qualified, "postgresql")
    assert inverse is not None and inverse.sql == (
        '-- DropIndex\nDROP INDEX "s"."i  j";\n\n-- DropTable\nDROP TABLE "my schema"."odd  name;x";\n')
    assert inverse.drops == [("odd  name;x", None)]
    # a dot inside a quoted name is not a schema separator
    dotted = 'CREATE INDEX "i" ON "a.b"("v");\nCREATE INDEX "k" ON "s"."x.y"("v");\n'
    inverse = invert_additive(dotted, "postgresql")
    assert inverse is not None and inverse.sql == (
        '-- DropIndex\nDROP INDEX "s"."k";\n\n-- DropIndex\nDROP INDEX "i";\n')


