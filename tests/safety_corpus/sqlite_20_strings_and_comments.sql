-- Nothing here deletes a row now: the words are in comments, strings and a trigger body
/* DROP TABLE "User"; DELETE FROM "Order"; */
INSERT INTO "Session" ("userId", "expiresAt") SELECT "id", 1900000000000 FROM "User" WHERE "name" = 'DELETE FROM "User";';
-- UPDATE "User" SET "name" = NULL;
CREATE TRIGGER "order_cleanup" AFTER DELETE ON "User"
BEGIN
  DELETE FROM "Order" WHERE "userId" = OLD."id";
  UPDATE "Session" SET "expiresAt" = 0 WHERE "userId" = OLD."id";
END;
SELECT 'DROP TABLE "Order"; TRUNCATE' AS "text";
