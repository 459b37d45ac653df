-- Hand-edited: keep the data by renaming instead of drop + add (Prisma would drop it).
-- AlterTable
ALTER TABLE "User" RENAME COLUMN "name" TO "displayName";
