-- Functions and a procedure whose bodies delete and update: creating them changes no row
CREATE OR REPLACE FUNCTION "anonymize_user"(uid integer) RETURNS void AS $fn$
BEGIN
  UPDATE "User" SET "email" = 'gone-' || uid || '@example.com', "name" = NULL WHERE "id" = uid;
  DELETE FROM "Session" WHERE "userId" = uid;
END;
$fn$ LANGUAGE plpgsql;

CREATE OR REPLACE PROCEDURE "archive_orders"() LANGUAGE sql AS $$
  DELETE FROM "Order" WHERE "status" = 'CANCELLED';
$$;

CREATE OR REPLACE FUNCTION "log_delete"() RETURNS trigger AS $$
BEGIN
  INSERT INTO "audit"."Log" ("message") VALUES ('deleted ' || OLD."id");
  DELETE FROM "Post" WHERE "authorId" = OLD."id";
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "user_log_delete" AFTER DELETE ON "User" FOR EACH ROW EXECUTE FUNCTION "log_delete"();
