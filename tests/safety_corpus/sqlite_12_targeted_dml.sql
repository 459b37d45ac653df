-- Targeted data fixes only
DELETE FROM "Session" WHERE "expiresAt" < CURRENT_TIMESTAMP;
UPDATE "User" SET "name" = 'anonymous; unknown' WHERE "name" IS NULL;
INSERT INTO "Tag" ("name") VALUES ('general');
