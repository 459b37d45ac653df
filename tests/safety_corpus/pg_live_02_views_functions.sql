-- Views, a materialized view, plpgsql functions and a trigger, written by hand
CREATE VIEW "ActiveUser" AS
  SELECT "id", "email", "name" FROM "User" WHERE "deletedAt" IS NULL;

CREATE MATERIALIZED VIEW "OrderTotals" AS
  SELECT "userId", sum("total") AS "total" FROM "Order" GROUP BY "userId";

CREATE OR REPLACE FUNCTION "touch_post"() RETURNS trigger AS $$
BEGIN
  NEW."wordCount" := coalesce(NEW."wordCount", 0);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "post_touch" BEFORE INSERT OR UPDATE ON "Post"
  FOR EACH ROW EXECUTE FUNCTION "touch_post"();

-- Cleans expired sessions when someone calls it; creating it deletes nothing
CREATE OR REPLACE FUNCTION "purge_expired_sessions"() RETURNS void AS $body$
BEGIN
  DELETE FROM "Session" WHERE "expiresAt" < now();
END;
$body$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION "purge_logs_older_than"(days integer) RETURNS void AS $body$
BEGIN
  DELETE FROM "audit"."Log" WHERE "at" < now() - make_interval(days => days);
END;
$body$ LANGUAGE plpgsql;

CREATE TYPE "LegacyStatus" AS ENUM ('OLD', 'OLDER');
