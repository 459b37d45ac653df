-- Backfills: the first fills only the column this migration adds; the others change existing rows
ALTER TABLE "Post" ADD COLUMN "slug" TEXT;
UPDATE "Post" SET "slug" = 'post-' || "id";
UPDATE "Post" SET "wordCount" = 0 WHERE "wordCount" IS NULL;
UPDATE "User" SET "role" = 'USER' WHERE "role" = 'MODERATOR';
ALTER TABLE "Post" ALTER COLUMN "slug" SET NOT NULL;
