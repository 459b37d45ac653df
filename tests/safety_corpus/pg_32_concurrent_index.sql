-- Built without blocking writes (applied on its own)
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS "Post_title_idx" ON "Post"("title");
