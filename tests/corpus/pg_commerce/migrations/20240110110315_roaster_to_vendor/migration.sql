-- Hand-written: "roaster" becomes "vendor" (we sell equipment makers too). Prisma generated
-- DROP TABLE "Roaster" + CREATE TABLE "Vendor"; rename everything in place instead, including
-- the constraint and index names Prisma derives from the table and column names.
ALTER TABLE "Roaster" RENAME TO "Vendor";
ALTER TABLE "Vendor" RENAME CONSTRAINT "Roaster_pkey" TO "Vendor_pkey";
ALTER TABLE "Vendor" RENAME CONSTRAINT "Roaster_ownerId_fkey" TO "Vendor_ownerId_fkey";
ALTER INDEX "Roaster_slug_key" RENAME TO "Vendor_slug_key";

ALTER TABLE "Product" RENAME COLUMN "roasterId" TO "vendorId";
ALTER TABLE "Product" RENAME CONSTRAINT "Product_roasterId_fkey" TO "Product_vendorId_fkey";

ALTER TABLE "ApiKey" RENAME COLUMN "roasterId" TO "vendorId";
ALTER TABLE "ApiKey" RENAME CONSTRAINT "ApiKey_roasterId_fkey" TO "ApiKey_vendorId_fkey";

ALTER TABLE "WebhookEndpoint" RENAME COLUMN "roasterId" TO "vendorId";
ALTER TABLE "WebhookEndpoint" RENAME CONSTRAINT "WebhookEndpoint_roasterId_fkey" TO "WebhookEndpoint_vendorId_fkey";

ALTER POLICY roaster_isolation ON "Product" RENAME TO vendor_isolation;
ALTER POLICY roaster_isolation ON "ApiKey" RENAME TO vendor_isolation;

ALTER TYPE "Role" RENAME VALUE 'ROASTER' TO 'VENDOR';

COMMENT ON TABLE "Vendor" IS 'A seller on the marketplace (roasters and equipment makers).';
