-- Hand-edited from Prisma's drop + add to keep the data
ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";
