-- A hand edit gone wrong: the second statement is not valid PostgreSQL
ALTER TABLE "User" ADD COLUMN "nickname" TEXT;
ALTER TABLE "User" DROPP COLUMN "nickname";
