-- AlterTable
ALTER TABLE "Post" ADD COLUMN "wordCount" INTEGER;

-- Backfill (hand-written): every row
UPDATE "Post" SET "wordCount" = coalesce(array_length(regexp_split_to_array("content", '\s+'), 1), 0);

ALTER TABLE "Post" ALTER COLUMN "wordCount" SET NOT NULL;
