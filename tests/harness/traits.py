"""A realistic PostgreSQL database, built the way production ones are: roles, the database and the
extensions made first by a superuser, then a Prisma migration history applied by the role that owns
the database and every object in it, which is NOT a superuser, and rows seeded as that role.

The history has the traits restores must survive: extensions in `public` (pgcrypto, pg_trgm, citext,
uuid-ossp), several schemas (multiSchema: `public` and `audit`; `billing` is listed but created by
no migration yet), an enum altered over time (ADD VALUE, ADD VALUE BEFORE, RENAME VALUE), serial,
identity and free-standing sequences, a view and a materialized view, PL/pgSQL functions and
triggers, a `DO $$ ... $$` block with `;` inside, GIN/GiST/partial/expression indexes, a domain,
comments, row-level security policies, grants and default privileges to a second role.

`traits_template` builds it once (real `prisma migrate deploy`), sealed as a template database;
`clone_traits` copies it per test in a second. `exact_state` reads everything a user would compare
after a restore, independently of faber-db's own snapshot code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .postgres import PostgresServer
from .prisma import PrismaProject, make_project
from .templates import Migration, attach_pg, seal_pg_template, unique_db_name

OWNER = "app_owner"
OWNER_PASSWORD = "0wner-PW-4e7"
READER = "app_reader"
EXTENSIONS = ("pgcrypto", "pg_trgm", "citext", "uuid-ossp")
SCHEMAS = ("public", "audit", "billing")
"""The datasource's multiSchema list; `billing` exists in no migration of the history."""

SCHEMA_PRISMA = """\
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["queryCompiler", "driverAdapters"]
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
  schemas  = ["public", "audit", "billing"]
}

enum Role {
  VISITOR
  MEMBER
  EDITOR
  ADMIN

  @@schema("public")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique @db.Citext
  name      String?
  role      Role     @default(MEMBER)
  apiKey    String   @default(dbgenerated("encode(gen_random_bytes(12), 'hex'::text)"))
  createdAt DateTime @default(now())
  posts     Post[]

  @@schema("public")
}

model Post {
  id        String   @id @default(dbgenerated("uuid_generate_v4()")) @db.Uuid
  title     String
  body      String?
  published Boolean  @default(false)
  tags      String[] @default([])
  meta      Json?
  invoice   Int      @default(dbgenerated("nextval('invoice_number_seq'::regclass)"))
  authorId  Int
  author    User     @relation(fields: [authorId], references: [id])

  @@index([authorId])
  @@schema("public")
}

model Event {
  id     BigInt   @id @default(autoincrement())
  kind   String
  userId Int?
  at     DateTime @default(now()) @db.Timestamptz(6)

  @@schema("audit")
}
"""

INIT = """-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "audit";

-- CreateExtension (installed by a superuser beforehand: each of these is a no-op for the owner)
CREATE EXTENSION IF NOT EXISTS "citext";
CREATE EXTENSION IF NOT EXISTS "pgcrypto";
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- CreateEnum
CREATE TYPE "public"."Role" AS ENUM ('GUEST', 'USER', 'ADMIN');

-- CreateTable
CREATE TABLE "public"."User" (
    "id" SERIAL NOT NULL,
    "email" CITEXT NOT NULL,
    "name" TEXT,
    "role" "public"."Role" NOT NULL DEFAULT 'USER',
    "apiKey" TEXT NOT NULL DEFAULT encode(gen_random_bytes(12), 'hex'::text),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "public"."Post" (
    "id" UUID NOT NULL DEFAULT uuid_generate_v4(),
    "title" TEXT NOT NULL,
    "body" TEXT,
    "published" BOOLEAN NOT NULL DEFAULT false,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "meta" JSONB,
    "authorId" INTEGER NOT NULL,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateTable (hand-edited: an identity column, which Prisma reads as autoincrement())
CREATE TABLE "audit"."Event" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "kind" TEXT NOT NULL,
    "userId" INTEGER,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "public"."User"("email");

-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "public"."Post"("authorId");

-- AddForeignKey
ALTER TABLE "public"."Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId")
    REFERENCES "public"."User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
"""

ENUM_CHANGES = """-- AlterEnum
ALTER TYPE "public"."Role" ADD VALUE 'EDITOR' BEFORE 'ADMIN';

-- AlterEnum
ALTER TYPE "public"."Role" RENAME VALUE 'USER' TO 'MEMBER';

-- AlterEnum
ALTER TYPE "public"."Role" RENAME VALUE 'GUEST' TO 'VISITOR';
"""

INVOICES = """-- A free-standing sequence: invoice numbers start at 1000
CREATE SEQUENCE "public"."invoice_number_seq" START WITH 1000 INCREMENT BY 1;

-- AlterTable
ALTER TABLE "public"."Post"
    ADD COLUMN "invoice" INTEGER NOT NULL DEFAULT nextval('"public"."invoice_number_seq"'::regclass);

-- A domain the history's functions use
CREATE DOMAIN "public"."score" AS INTEGER CHECK (VALUE BETWEEN 0 AND 100);
"""

AUDIT_TRIGGERS = r"""-- Every write to "User" is recorded in "audit"."Event"
CREATE FUNCTION "public"."record_user_event"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- a ';' inside a function body: the statement goes on to the closing dollar quote
  INSERT INTO "audit"."Event" ("kind", "userId") VALUES (lower(TG_OP), NEW."id");
  RETURN NEW;
END;
$$;

CREATE TRIGGER "User_audit" AFTER INSERT OR UPDATE ON "public"."User"
FOR EACH ROW EXECUTE FUNCTION "public"."record_user_event"();

CREATE FUNCTION "public"."post_rank"("p" "public"."Post") RETURNS "public"."score"
LANGUAGE sql STABLE AS $$ SELECT least(100, length(coalesce(p."body", '')))::"public"."score" $$;

COMMENT ON TABLE "public"."User" IS 'People who sign in; emails compare case-insensitively';
COMMENT ON COLUMN "public"."User"."apiKey" IS 'random, hex';
COMMENT ON FUNCTION "public"."record_user_event"() IS 'writes audit."Event"';

-- Backfill once, idempotent: a DO block with statements (and ';') inside
DO $$
DECLARE
  missing integer;
BEGIN
  SELECT count(*) INTO missing FROM "public"."User" u
   WHERE NOT EXISTS (SELECT 1 FROM "audit"."Event" e WHERE e."userId" = u."id");
  IF missing > 0 THEN
    INSERT INTO "audit"."Event" ("kind", "userId") SELECT 'backfill', "id" FROM "public"."User";
  END IF;
END
$$;
"""

SEARCH_INDEXES = """-- Hand-written indexes Prisma's schema cannot express
CREATE EXTENSION IF NOT EXISTS "pg_trgm";
CREATE INDEX "Post_title_trgm_idx" ON "public"."Post" USING gin ("title" gin_trgm_ops);
CREATE INDEX "User_name_trgm_idx" ON "public"."User" USING gist ("name" gist_trgm_ops);
CREATE INDEX "Post_published_idx" ON "public"."Post" ("authorId") WHERE "published";
CREATE INDEX "User_lower_name_idx" ON "public"."User" (lower("name"));
CREATE INDEX "Post_tags_idx" ON "public"."Post" USING gin ("tags");
"""

VIEWS = """CREATE VIEW "public"."PublishedPost" AS
  SELECT p."id", p."title", u."email" AS "author" FROM "public"."Post" p
  JOIN "public"."User" u ON u."id" = p."authorId" WHERE p."published";

CREATE MATERIALIZED VIEW "public"."AuthorStats" AS
  SELECT "authorId", count(*) AS "posts", max("invoice") AS "lastInvoice" FROM "public"."Post" GROUP BY "authorId";
CREATE UNIQUE INDEX "AuthorStats_authorId_key" ON "public"."AuthorStats" ("authorId");
COMMENT ON MATERIALIZED VIEW "public"."AuthorStats" IS 'refreshed nightly';
"""

SECURITY = f"""-- Row-level security: readers see published posts only
ALTER TABLE "public"."Post" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Post_readers" ON "public"."Post" FOR SELECT TO "{READER}" USING ("published");
CREATE POLICY "Post_authors" ON "public"."Post" FOR ALL TO PUBLIC
    USING ("authorId" = nullif(current_setting('app.user', true), '')::integer);

-- Grants to the read-only role, and default privileges for tables made later
GRANT USAGE ON SCHEMA "audit" TO "{READER}";
GRANT SELECT ON "public"."Post", "public"."PublishedPost" TO "{READER}";
GRANT SELECT ("id", "email") ON "public"."User" TO "{READER}";
GRANT SELECT ON ALL TABLES IN SCHEMA "audit" TO "{READER}";
ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT ON TABLES TO "{READER}";
"""

TRAITS_MIGRATIONS: list[Migration] = [
    ("20240101000000_init", INIT),
    ("20240102000000_enum_changes", ENUM_CHANGES),
    ("20240103000000_invoices", INVOICES),
    ("20240104000000_audit_triggers", AUDIT_TRIGGERS),
    ("20240105000000_search_indexes", SEARCH_INDEXES),
    ("20240106000000_views", VIEWS),
    ("20240107000000_security", SECURITY),
]

# What each trait's test changes after a backup, as the owner (also the body of a migration that
# applies before a later one fails). Each keeps to its trait, so a restore that misses it fails there.
TRAIT_CHANGES: dict[str, str] = {
    "extensions_in_public": """CREATE EXTENSION IF NOT EXISTS "hstore";
ALTER TABLE "public"."User" ADD COLUMN "prefs" hstore;
UPDATE "public"."User" SET "prefs" = hstore('theme', 'dark') WHERE "id" % 3 = 0;
UPDATE "public"."User" SET "email" = upper("email"::text) WHERE "id" % 5 = 0;
INSERT INTO "public"."Post" ("id", "title", "authorId")
  SELECT gen_random_uuid(), 'made with pgcrypto', min("id") FROM "public"."User";
""",
    "several_schemas": """CREATE SCHEMA IF NOT EXISTS "billing";
CREATE TABLE "billing"."Invoice" ("id" SERIAL PRIMARY KEY, "postId" UUID REFERENCES "public"."Post"("id"),
  "total" NUMERIC(10, 2));
INSERT INTO "billing"."Invoice" ("postId", "total") SELECT "id", 9.5 FROM "public"."Post" ORDER BY "invoice" LIMIT 10;
DELETE FROM "audit"."Event" WHERE "kind" = 'update';
CREATE TABLE "audit"."Archive" ("id" INTEGER PRIMARY KEY);
""",
    "enums_altered": """ALTER TYPE "public"."Role" ADD VALUE 'OWNER';
ALTER TYPE "public"."Role" RENAME VALUE 'VISITOR' TO 'GUEST';
UPDATE "public"."User" SET "role" = 'ADMIN' WHERE "role" = 'EDITOR';
""",
    "sequences_and_identity": """SELECT setval('"public"."invoice_number_seq"', 50000);
ALTER SEQUENCE "public"."invoice_number_seq" INCREMENT BY 10;
INSERT INTO "audit"."Event" ("kind") VALUES ('manual'), ('manual');
INSERT INTO "public"."User" ("email") VALUES ('late@example.com');
""",
    "views_and_materialized_views": """CREATE OR REPLACE VIEW "public"."PublishedPost" AS
  SELECT p."id", p."title", u."email" AS "author" FROM "public"."Post" p
  JOIN "public"."User" u ON u."id" = p."authorId";
UPDATE "public"."Post" SET "published" = NOT "published" WHERE "invoice" % 4 = 0;
REFRESH MATERIALIZED VIEW "public"."AuthorStats";
CREATE VIEW "public"."Recent" AS SELECT "id" FROM "public"."Post";
""",
    "functions_and_triggers": """CREATE OR REPLACE FUNCTION "public"."record_user_event"() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
DROP TRIGGER "User_audit" ON "public"."User";
CREATE TRIGGER "User_touch" BEFORE UPDATE ON "public"."User"
FOR EACH ROW EXECUTE FUNCTION "public"."record_user_event"();
DO $$ BEGIN UPDATE "public"."User" SET "name" = 'renamed; by a DO block' WHERE "id" % 7 = 0; END $$;
""",
    "gin_gist_partial_expression_indexes": """DROP INDEX "public"."Post_title_trgm_idx";
CREATE INDEX "Post_title_gist_idx" ON "public"."Post" USING gist ("title" gist_trgm_ops);
DROP INDEX "public"."Post_published_idx";
CREATE INDEX "Post_published_idx" ON "public"."Post" ("authorId") WHERE NOT "published";
CREATE INDEX "Post_meta_idx" ON "public"."Post" USING gin ("meta" jsonb_path_ops);
DROP INDEX "public"."User_lower_name_idx";
""",
    "comments": """COMMENT ON TABLE "public"."User" IS 'changed';
COMMENT ON COLUMN "public"."User"."apiKey" IS NULL;
COMMENT ON COLUMN "public"."Post"."title" IS 'a new comment';
COMMENT ON FUNCTION "public"."record_user_event"() IS NULL;
""",
    "row_level_security": """DROP POLICY "Post_readers" ON "public"."Post";
CREATE POLICY "Post_everyone" ON "public"."Post" FOR SELECT USING (true);
ALTER TABLE "public"."User" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "public"."Post" DISABLE ROW LEVEL SECURITY;
""",
    "grants_and_default_privileges": f"""REVOKE SELECT ON "public"."Post" FROM "{READER}";
GRANT SELECT, UPDATE ON "public"."User" TO "{READER}";
ALTER DEFAULT PRIVILEGES IN SCHEMA "public" REVOKE SELECT ON TABLES FROM "{READER}";
CREATE TABLE "public"."Note" ("id" INTEGER PRIMARY KEY);
""",
    "rows_of_every_table": """UPDATE "public"."User" SET "name" = NULL WHERE "id" % 2 = 0;
DELETE FROM "public"."Post" WHERE "published" AND "invoice" % 3 = 0;
INSERT INTO "audit"."Event" ("kind", "userId") SELECT 'bulk', "id" FROM "public"."User";
UPDATE "public"."Post" SET "meta" = "meta" || '{"edited": true}'::jsonb, "tags" = array_append("tags", 'x');
""",
}

USERS = 120
POSTS = 300

SEED = f"""
INSERT INTO "public"."User" ("email", "name", "role")
  SELECT 'User' || g || '@Example.com', CASE WHEN g % 4 = 0 THEN NULL ELSE 'user ' || g || ' ü' END,
         (ARRAY['VISITOR', 'MEMBER', 'EDITOR', 'ADMIN']::"public"."Role"[])[1 + g % 4]
  FROM generate_series(1, {USERS}) AS g;
UPDATE "public"."User" SET "name" = "name" || ' (edited)' WHERE "id" % 10 = 0;
INSERT INTO "public"."Post" ("title", "body", "published", "tags", "meta", "authorId")
  SELECT 'post ' || g || ' about ' || (ARRAY['sql', 'prisma', 'backups'])[1 + g % 3], repeat('x', g % 150),
         g % 3 <> 0, ARRAY['t' || g % 5, 't' || g % 7], jsonb_build_object('n', g, 'half', g / 2.0),
         (SELECT min("id") FROM "public"."User") + g % {USERS}
  FROM generate_series(1, {POSTS}) AS g;
REFRESH MATERIALIZED VIEW "public"."AuthorStats";
"""


def owner_url(server: PostgresServer, dbname: str) -> str:
    return server.url(dbname, user=OWNER, password=OWNER_PASSWORD)


def ensure_roles(server: PostgresServer) -> None:
    """The owner (LOGIN, no superuser, no CREATEDB, no CREATEROLE) and the read-only role."""
    with server.admin_connection() as conn:
        for role, options in ((OWNER, sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                sql.Literal(OWNER_PASSWORD))), (READER, sql.SQL("NOLOGIN"))):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
            conn.execute(sql.SQL("{} {} ").format(verb, sql.Identifier(role)) + options)


def traits_project(root: Path, node_modules: Path) -> PrismaProject:
    """The Prisma project of the traits history (multiSchema schema, the migrations; no database)."""
    project = make_project(root, "postgresql", "", node_modules)
    project.schema_path.write_text(SCHEMA_PRISMA, "utf-8")
    for name, text in TRAITS_MIGRATIONS:
        project.add_migration(name, text)
    return project


def traits_template(server: PostgresServer, work_dir: Path, node_modules: Path, name: str | None = None) -> str:
    """Build the traits database once: roles, database and extensions as the superuser; the history
    with real Prisma and the seed rows as the owner; then sealed as a template. Returns its name."""
    ensure_roles(server)
    name = name or unique_db_name("tpl_traits")
    server.create_database(name, owner=OWNER)
    with server.admin_connection(name) as conn:
        for extension in EXTENSIONS:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(sql.Identifier(extension)))
    project = traits_project(work_dir / "traits-project", node_modules)
    project.prisma("migrate", "deploy", database_url=owner_url(server, name))
    with psycopg.connect(owner_url(server, name), autocommit=True) as conn:
        conn.execute(SEED)
    seal_pg_template(server, name)
    return name


def clone_traits(server: PostgresServer, template: str, name: str | None = None) -> str:
    """A database of the traits template's own, owned by the owner role; returns its name."""
    return server.create_database(name or unique_db_name("traits"), template=template, owner=OWNER)


def attach_traits(project: PrismaProject, server: PostgresServer, dbname: str) -> PrismaProject:
    """The project on `dbname`, connecting as the owner role."""
    attach_pg(project, server, dbname)
    project.database_url = owner_url(server, dbname)
    return project


_STATE_QUERIES = {
    "schemas": "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY(%(s)s) ORDER BY 1",
    "extensions": "SELECT extname, extversion, extnamespace::regnamespace::text FROM pg_extension ORDER BY 1",
    "columns": "SELECT table_schema, table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, "
               "column_default, is_identity, identity_generation FROM information_schema.columns "
               "WHERE table_schema = ANY(%(s)s) ORDER BY 1, 2, 4",
    "indexes": "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = ANY(%(s)s) "
               "ORDER BY 1, 2, 3",
    "constraints": "SELECT n.nspname, conrelid::regclass::text, contypid::regtype::text, conname, "
                   "pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace "
                   "WHERE n.nspname = ANY(%(s)s) ORDER BY 1, 2, 3, 4",
    "enums": "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
             "JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace "
             "WHERE n.nspname = ANY(%(s)s) GROUP BY 1 ORDER BY 1",
    "domains": "SELECT domain_schema, domain_name, data_type FROM information_schema.domains "
               "WHERE domain_schema = ANY(%(s)s) ORDER BY 1, 2",
    "functions": "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), pg_get_userbyid(p.proowner), "
                 "p.proacl::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                 "WHERE n.nspname = ANY(%(s)s) AND p.prokind = 'f' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                 "WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(t.oid), tgenabled FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = ANY(%(s)s) ORDER BY 1, 2",
    "views": "SELECT schemaname, viewname, definition, viewowner FROM pg_views WHERE schemaname = ANY(%(s)s) "
             "ORDER BY 1, 2",
    "matviews": "SELECT schemaname, matviewname, definition, ispopulated FROM pg_matviews "
                "WHERE schemaname = ANY(%(s)s) ORDER BY 1, 2",
    "sequences": "SELECT schemaname, sequencename, start_value, increment_by, last_value FROM pg_sequences "
                 "WHERE schemaname = ANY(%(s)s) ORDER BY 1, 2",
    "policies": "SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check "
                "FROM pg_policies WHERE schemaname = ANY(%(s)s) ORDER BY 1, 2, 3",
    "tables": "SELECT n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, "
              "pg_get_userbyid(c.relowner), (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(c.relacl) a) "
              "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = ANY(%(s)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT EXISTS "
              "(SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1, 2",
    "column_grants": "SELECT table_schema, table_name, column_name, grantee, privilege_type "
                     "FROM information_schema.column_privileges WHERE table_schema = ANY(%(s)s) "
                     "AND grantee <> %(owner)s ORDER BY 1, 2, 3, 4, 5",
    "comments": "SELECT c.oid::regclass::text, d.objsubid, d.description FROM pg_description d "
                "JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(%(s)s) "
                "UNION ALL SELECT p.oid::regprocedure::text, 0, d.description FROM pg_description d "
                "JOIN pg_proc p ON p.oid = d.objoid AND d.classoid = 'pg_proc'::regclass "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%(s)s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.objid = p.oid AND x.deptype = 'e') ORDER BY 1, 2",
    "default_privileges": "SELECT pg_get_userbyid(defaclrole), defaclnamespace::regnamespace::text, defaclobjtype, "
                          "defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3",
}


def exact_state(server: PostgresServer, dbname: str, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, Any]:
    """Everything a user would compare after a restore, read as the superuser (which row-level
    security does not filter): the catalog listed above, every sequence's value, and every row of
    every table and materialized view of `schemas`, the history table included."""
    params = {"s": list(schemas), "owner": OWNER}
    with server.admin_connection(dbname) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        state: dict[str, Any] = {key: conn.execute(query, params).fetchall()
                                 for key, query in _STATE_QUERIES.items()}
        relations = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%(s)s) AND c.relkind IN ('r', 'm', 'S') AND NOT EXISTS (SELECT 1 FROM pg_depend d "
            "WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1, 2", params).fetchall()
        for schema, name, kind in relations:
            target = sql.Identifier(str(schema), str(name))
            if kind == "S":
                state[f"sequence {schema}.{name}"] = conn.execute(
                    sql.SQL("SELECT last_value, is_called FROM {}").format(target)).fetchone()
            else:
                rows = conn.execute(sql.SQL("SELECT t::text FROM {} AS t").format(target)).fetchall()
                state[f"rows {schema}.{name}"] = sorted(str(r[0]) for r in rows)
    return state
