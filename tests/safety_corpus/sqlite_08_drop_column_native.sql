-- SQLite 3.35+: drop a column in place (hand-written)
ALTER TABLE "Post" DROP COLUMN "content";
