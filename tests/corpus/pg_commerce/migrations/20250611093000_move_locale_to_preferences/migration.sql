-- Copy each user's locale into the new preferences row.
INSERT INTO "public"."UserPreference" ("userId", "newsletter", "language", "updatedAt")
SELECT u."id", u."marketingOptIn", split_part(u."locale", '-', 1), CURRENT_TIMESTAMP
FROM "public"."User" u
WHERE u."deletedAt" IS NULL
ON CONFLICT ("userId") DO NOTHING;
