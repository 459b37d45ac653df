-- At most one default address per user (the checkout picked one at random). Keep the oldest.
UPDATE "Address" a
SET "isDefault" = false
WHERE a."isDefault"
  AND EXISTS (
      SELECT 1 FROM "Address" b
      WHERE b."userId" = a."userId" AND b."isDefault" AND b."id" < a."id"
  );

CREATE UNIQUE INDEX "Address_one_default_per_user" ON "Address" ("userId") WHERE "isDefault";
