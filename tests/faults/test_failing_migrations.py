"""A migration that fails midway in a protected environment (production, --approve and
--allow-destructive): faber-db restores the verified backup, and the database is exactly what it
was: every table's rows, the schema, the sequences and _prisma_migrations.

On the realistic PostgreSQL database of harness.traits, connected as its non-superuser owner, one
deploy per trait: a migration that changes that trait applies, the next one fails. Each runs
FABER_FAULT_TRIALS / 4 times (at least once; CI's default 4 gives one trial per trait)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
from harness import PostgresServer, PrismaProject, traits

from .conftest import PROVIDERS
from .helpers import approve_args, errcode, faber, history, init_faber, seed, snapshot, unfinished_names


@dataclass(frozen=True)
class Case:
    """Migrations to add (all but the last apply cleanly); SQL per provider (None: the same)."""

    id: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...] | None = None

    def migrations(self, provider: str) -> tuple[str, ...]:
        return self.sqlite if provider == "sqlite" or self.postgresql is None else self.postgresql


GOOD_DDL = 'CREATE TABLE "Audit" ("id" INTEGER NOT NULL PRIMARY KEY, "note" TEXT);\n'

CASES = [
    Case("unique_index_on_duplicates", (
        'ALTER TABLE "Post" ADD COLUMN "slug" TEXT NOT NULL DEFAULT \'x\';\n'
        'UPDATE "Post" SET "slug" = \'p-\' || "id" WHERE "id" > 0;\n'
        'CREATE UNIQUE INDEX "Post_title_key" ON "Post"("title");\n',)),
    Case("not_null_violation", (
        # SQLite: Prisma's table redefinition, copying NULL names into a NOT NULL column
        'PRAGMA foreign_keys=OFF;\n'
        'CREATE TABLE "new_User" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, '
        '"name" TEXT NOT NULL);\n'
        'INSERT INTO "new_User" ("email", "id", "name") SELECT "email", "id", "name" FROM "User";\n'
        'DROP TABLE "User";\n'
        'ALTER TABLE "new_User" RENAME TO "User";\n'
        'PRAGMA foreign_keys=ON;\n',
    ), (
        'ALTER TABLE "User" ADD COLUMN "age" INTEGER;\n'
        'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;\n',)),
    Case("fk_violation", (
        GOOD_DDL + 'INSERT INTO "Audit" ("id", "note") VALUES (1, \'before the orphan\');\n'
        'INSERT INTO "Post" ("title", "score", "authorId") VALUES (\'orphan\', 1, 999999);\n'
        'PRAGMA foreign_key_check;\n'
        # SQLite only enforces foreign keys with the pragma on; make the check fail loudly either way
        'CREATE TABLE "Fk" ("n" INTEGER NOT NULL CHECK ("n" = 0));\n'
        'INSERT INTO "Fk" SELECT count(*) FROM "Post" p LEFT JOIN "User" u ON u."id" = p."authorId" '
        'WHERE u."id" IS NULL;\n',
    ), (
        GOOD_DDL + 'INSERT INTO "Audit" ("id", "note") VALUES (1, \'before the orphan\');\n'
        'INSERT INTO "Post" ("title", "score", "authorId") VALUES (\'orphan\', 1, 999999);\n',)),
    Case("bad_sql_after_good_ddl", (
        GOOD_DDL + 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n'
        'UPDATE "User" SET "nick" = "email" WHERE "id" > 0;\n'
        'ALTER TABEL "User" ADD COLUMN "oops" TEXT;\n',)),
    Case("division_by_zero_in_update", (
        # PostgreSQL raises division_by_zero; SQLite yields NULL, which the NOT NULL column refuses
        'ALTER TABLE "Post" ADD COLUMN "rank" INTEGER;\n'
        'UPDATE "Post" SET "rank" = "id" WHERE "id" > 0;\n'
        'UPDATE "Post" SET "score" = 10 / ("score" - "score") WHERE "id" > 0;\n',)),
    Case("check_constraint_violated", (
        GOOD_DDL.replace('"note" TEXT', '"stars" INTEGER NOT NULL CHECK ("stars" BETWEEN 1 AND 5)')
        + 'INSERT INTO "Audit" ("id", "stars") SELECT "id", "score" FROM "Post";\n',
    ), (
        'UPDATE "Post" SET "title" = upper("title") WHERE "id" > 0;\n'
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_score_small" CHECK ("score" < 5);\n',)),
    Case("type_cast_failure", (
        'CREATE TABLE "Num" ("n" INTEGER NOT NULL) STRICT;\n'
        'INSERT INTO "Num" ("n") SELECT "score" FROM "Post";\n'
        'INSERT INTO "Num" ("n") SELECT "title" FROM "Post";\n',
    ), (
        'ALTER TABLE "Post" ADD COLUMN "legacy" TEXT;\n'
        'ALTER TABLE "Post" ALTER COLUMN "title" SET DATA TYPE INTEGER USING "title"::integer;\n',)),
    Case("duplicate_table", (
        GOOD_DDL + 'CREATE TABLE "Post" ("id" INTEGER NOT NULL PRIMARY KEY);\n',)),
    Case("second_migration_fails_after_good_first", (
        'CREATE TABLE "Comment" ("id" INTEGER NOT NULL PRIMARY KEY, "postId" INTEGER NOT NULL, "body" TEXT NOT NULL);\n'
        'INSERT INTO "Comment" ("id", "postId", "body") SELECT "id", "id", "title" FROM "Post";\n'
        'CREATE INDEX "Comment_postId_idx" ON "Comment"("postId");\n',
        'ALTER TABLE "User" ADD COLUMN "tag" TEXT NOT NULL DEFAULT \'x\';\n'
        'CREATE UNIQUE INDEX "User_tag_key" ON "User"("tag");\n',
    )),
    Case("unique_violation_by_update", (
        'UPDATE "User" SET "name" = \'changed\' WHERE "id" > 0;\n'
        'UPDATE "User" SET "email" = \'same@example.com\' WHERE "id" <= (SELECT min("id") + 1 FROM "User");\n',)),
    Case("raise_in_trigger_or_block", (
        'CREATE TRIGGER "Post_no_insert" BEFORE INSERT ON "Post" BEGIN SELECT RAISE(ABORT, \'no more posts\'); END;\n'
        'INSERT INTO "Post" ("title", "score", "authorId") SELECT "title", "score", "authorId" FROM "Post";\n',
    ), (
        'CREATE FUNCTION "stop_it"() RETURNS trigger LANGUAGE plpgsql AS $$\n'
        'BEGIN\n  RAISE EXCEPTION \'no more posts; really\';\nEND;\n$$;\n'
        'CREATE TRIGGER "Post_no_insert" BEFORE INSERT ON "Post" FOR EACH ROW EXECUTE FUNCTION "stop_it"();\n'
        'DO $$ BEGIN INSERT INTO "Post" ("title", "score", "authorId") '
        'SELECT "title", "score", "authorId" FROM "Post"; END $$;\n',)),
    Case("third_of_three_fails_after_data_moves", (
        'ALTER TABLE "User" ADD COLUMN "score" INTEGER NOT NULL DEFAULT 0;\n',
        'UPDATE "User" SET "score" = (SELECT count(*) FROM "Post" WHERE "Post"."authorId" = "User"."id") '
        'WHERE "id" > 0;\nDELETE FROM "Post" WHERE "score" > 5;\n',
        'CREATE TABLE "Archive" ("id" INTEGER NOT NULL PRIMARY KEY, "userId" INTEGER NOT NULL);\n'
        'INSERT INTO "Archive" ("id", "userId") SELECT "id", "id" FROM "User";\n'
        'INSERT INTO "Archive" ("id", "userId") SELECT "id", "id" FROM "User";\n',
    )),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("project", PROVIDERS, indirect=True)
def test_failing_migration_in_production_is_restored_exactly(project: PrismaProject, case: Case) -> None:
    env = init_faber(project)
    seed(project)
    names = []
    migrations = case.migrations(project.provider)
    for i, sql_text in enumerate(migrations):
        name = f"2024020{i + 1}000000_{case.id}_{i + 1}"
        project.add_migration(name, sql_text)
        names.append(name)
    before = snapshot(project)
    history_before = history(project)

    code, result, stderr = faber(project, env, "migrate", "production", *approve_args(project, env),
                                 "--allow-destructive")

    shown = json.dumps(result, indent=1) + "\n" + stderr[-3000:]
    assert code == 1, shown
    assert errcode(result) == "MIGRATION_FAILED", shown
    details = result["details"]
    assert details["failed_migration"] == names[-1], shown
    # the migrations that went through before the failure (all restored away afterwards)
    assert set(details["applied"]) <= set(names[:-1]), shown
    assert details["restored"] is True and details["restore_verified"] is True, shown
    assert details["backup"] is not None and details["backup"]["verified"] is True, shown
    assert next(s for s in details["steps"] if s["name"] == "automatic_restore")["status"] == "ok", shown

    after = snapshot(project)
    for key in before:
        assert after[key] == before[key], f"{key} differs after the restore\n{shown}"
    assert history(project) == history_before

    # the next status sees the exact state: everything still pending, nothing failed
    code, status, _ = faber(project, env, "status", "production")
    assert status["details"]["pending"] == names and status["details"]["failed"] == [], status
    assert status["details"]["applied"] == ["20240101000000_init"]


TRAIT_TRIALS = max(1, int(os.environ.get("FABER_FAULT_TRIALS", "4")) // 4)
# fails on its second statement, after the first has changed the table
FAILING = ('ALTER TABLE "public"."User" ADD COLUMN "broken" INTEGER;\n'
           'UPDATE "public"."User" SET "broken" = 1 / ("id" - "id") WHERE "id" > 0;\n')


@pytest.mark.postgres
@pytest.mark.parametrize("trial", range(TRAIT_TRIALS))
@pytest.mark.parametrize("trait", sorted(traits.TRAIT_CHANGES))
def test_failing_migration_on_a_realistic_database_is_restored_as_it_was(
    traits_project: PrismaProject, pg_server: PostgresServer, trait: str, trial: int
) -> None:
    project = traits_project
    assert project.database_name is not None
    env = init_faber(project)
    names = [f"20250101000000_{trait}", "20250102000000_fails"]
    project.add_migration(names[0], traits.TRAIT_CHANGES[trait])
    project.add_migration(names[1], FAILING)
    before = traits.exact_state(pg_server, project.database_name)

    code, result, stderr = faber(project, env, "migrate", "production", *approve_args(project, env),
                                 "--allow-destructive")

    shown = json.dumps(result, indent=1) + "\n" + stderr[-3000:]
    assert code == 1 and errcode(result) == "MIGRATION_FAILED", shown
    details = result["details"]
    assert details["failed_migration"] == names[1], shown
    assert details["ran_before_failure"] == [names[0]], shown
    assert details["restored"] is True and details["restore_verified"] is True, shown
    assert next(s for s in details["steps"] if s["name"] == "automatic_restore")["status"] == "ok", shown

    after = traits.exact_state(pg_server, project.database_name)
    assert sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k)) == [], shown
    assert unfinished_names(project) == [], "a failed history row was left behind"
    code, status, _ = faber(project, env, "status", "production")
    assert status["details"]["pending"] == names and status["details"]["failed"] == [], status
