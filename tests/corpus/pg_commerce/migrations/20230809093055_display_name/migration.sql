-- Hand-edited: Prisma generated DROP COLUMN "fullName" + ADD COLUMN "displayName".
ALTER TABLE "User" RENAME COLUMN "fullName" TO "displayName";
