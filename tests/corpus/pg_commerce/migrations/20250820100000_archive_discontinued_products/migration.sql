-- Products of vendors that left the marketplace in 2024 are archived, not deleted (orders
-- reference their variants).
UPDATE "public"."Product" p
SET "status" = 'ARCHIVED'
WHERE p."status" <> 'ARCHIVED'
  AND p."vendorId" IN (SELECT v."id" FROM "public"."Vendor" v WHERE v."verifiedAt" IS NULL);
