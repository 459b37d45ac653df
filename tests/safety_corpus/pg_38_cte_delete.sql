-- Deletes and updates written with CTEs
WITH "gone" AS (
  SELECT "id" FROM "User" WHERE "deletedAt" IS NOT NULL
)
DELETE FROM "Session" WHERE "userId" IN (SELECT "id" FROM "gone");

-- a data-modifying CTE: the DELETE runs, its rows move to the archive
WITH "archived" AS (
  DELETE FROM "audit"."Log" WHERE "at" < now() - interval '7 days 12 hours' RETURNING *
)
INSERT INTO "audit"."LogArchive" ("id", "at", "message")
SELECT "id", "at", "message" FROM "archived";

WITH "big" AS (SELECT "userId" FROM "Order" WHERE "total" > 50)
UPDATE "User" SET "name" = 'VIP' WHERE "id" IN (SELECT "userId" FROM "big");
