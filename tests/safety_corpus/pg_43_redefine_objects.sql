-- Redefinitions: each object is dropped and created again under its own name
DROP VIEW IF EXISTS "ActiveUser";
CREATE VIEW "ActiveUser" AS
  SELECT "id", "email", "name", "role" FROM "User" WHERE "deletedAt" IS NULL;

DROP TRIGGER IF EXISTS "post_touch" ON "Post";
CREATE TRIGGER "post_touch" BEFORE INSERT OR UPDATE ON "Post"
  FOR EACH ROW EXECUTE FUNCTION "touch_post"();

DROP FUNCTION IF EXISTS "purge_expired_sessions"();
CREATE FUNCTION "purge_expired_sessions"() RETURNS void AS $$
BEGIN
  DELETE FROM "Session" WHERE "expiresAt" < now() - interval '1 hour';
END;
$$ LANGUAGE plpgsql;
