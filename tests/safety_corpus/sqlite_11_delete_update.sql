-- Seed cleanup; a comment with a ; inside
DELETE FROM "Session";
UPDATE "User" SET "name" = trim("name");
