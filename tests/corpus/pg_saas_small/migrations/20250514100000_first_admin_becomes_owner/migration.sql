-- The oldest admin of each organization becomes its owner.
WITH first_admin AS (
    SELECT DISTINCT ON ("orgId") "orgId", "userId"
    FROM "public"."Membership"
    WHERE "role" = 'ADMIN'
    ORDER BY "orgId", "createdAt"
)
UPDATE "public"."Membership" m
SET "role" = 'OWNER'
FROM first_admin f
WHERE m."orgId" = f."orgId" AND m."userId" = f."userId";
