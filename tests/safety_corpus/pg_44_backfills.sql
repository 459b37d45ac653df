-- Backfills: only the last UPDATE overwrites values that existed before
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;
UPDATE "Post" SET "slug" = 'post-' || "id";
UPDATE "Post" SET "wordCount" = 0 WHERE "wordCount" IS NULL;
UPDATE "User" SET "role" = 'USER' WHERE "role" = 'MODERATOR';
ALTER TABLE "Post" ALTER COLUMN "slug" SET NOT NULL;
