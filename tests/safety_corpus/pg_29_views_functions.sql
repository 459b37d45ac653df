-- A view and a trigger function; the function body has semicolons and is not run now
CREATE OR REPLACE VIEW "PublishedPost" AS
  SELECT "id", "title", "authorId" FROM "Post" WHERE "published" = true;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
  NEW."updatedAt" = now();
  DELETE FROM "AuditScratch";
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER post_updated_at BEFORE UPDATE ON "Post"
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
