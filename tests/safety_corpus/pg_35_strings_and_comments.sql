-- Nothing here deletes anything: the words are in comments and strings
/* DROP TABLE "User"; /* nested: DELETE FROM "Order"; */ still a comment; */
INSERT INTO "audit"."Log" ("message") VALUES (E'DELETE FROM "User";\nDROP TABLE "Order"; -- not run');
INSERT INTO "audit"."Log" ("message") VALUES ($$UPDATE "User" SET "role" = 'ADMIN'; TRUNCATE "Session";$$);
COMMENT ON TABLE "Order" IS 'DROP TABLE "Order"; DELETE FROM "Order" WHERE true';
-- DELETE FROM "Session" WHERE "expiresAt" < now();
SELECT 'ALTER TABLE "User" DROP COLUMN "email"' AS "not_a_statement";
