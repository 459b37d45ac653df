-- Objects other than tables
DROP VIEW "ActiveUser";
DROP MATERIALIZED VIEW "OrderTotals";
DROP TRIGGER "post_touch" ON "Post";
DROP FUNCTION "touch_post"();
DROP TYPE "LegacyStatus";
DROP EXTENSION "pg_trgm" CASCADE;
