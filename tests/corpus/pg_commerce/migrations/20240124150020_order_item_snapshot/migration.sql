-- AlterTable
ALTER TABLE "OrderItem" ADD COLUMN "productName" TEXT;

-- Hand-written backfill: the name at the time of the order, so renamed products keep their
-- old name on invoices.
UPDATE "OrderItem" oi
SET "productName" = p."name"
FROM "ProductVariant" v
JOIN "Product" p ON p."id" = v."productId"
WHERE v."id" = oi."variantId";

ALTER TABLE "OrderItem" ALTER COLUMN "productName" SET NOT NULL;
