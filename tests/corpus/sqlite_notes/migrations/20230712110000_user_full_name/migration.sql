-- Hand-edited: rename instead of Prisma's drop + add (SQLite 3.25+).
ALTER TABLE "User" RENAME COLUMN "name" TO "fullName";
