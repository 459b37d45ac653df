-- Orphan and targeted cleanups, a CTE delete and an UPDATE ... FROM
DELETE FROM "Order" WHERE "userId" NOT IN (SELECT "id" FROM "User");

WITH "low" AS (SELECT "id" FROM "User" WHERE "score" <= 10)
DELETE FROM "Session" WHERE "userId" IN (SELECT "id" FROM "low");

UPDATE "User" SET "score" = 0
FROM "Order"
WHERE "Order"."userId" = "User"."id" AND "Order"."total" < 0;

DELETE FROM "Session" WHERE "expiresAt" < 1700000000000;
