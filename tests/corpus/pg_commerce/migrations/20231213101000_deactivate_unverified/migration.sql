-- Accounts that never verified their email in 2022 are deactivated (GDPR review, ticket OPS-212).
UPDATE "User"
SET "deletedAt" = '2023-12-13 10:00:00'
WHERE "emailVerifiedAt" IS NULL
  AND "createdAt" < '2023-01-01'
  AND "deletedAt" IS NULL;
