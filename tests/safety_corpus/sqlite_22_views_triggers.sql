-- A view redefined, a trigger dropped for good
DROP VIEW IF EXISTS "Named";
CREATE VIEW "Named" AS SELECT "id", "name", "email" FROM "User" WHERE "name" IS NOT NULL;

DROP TRIGGER "session_cleanup";
