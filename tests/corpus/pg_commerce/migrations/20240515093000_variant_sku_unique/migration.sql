/*
  Warnings:

  - A unique constraint covering the columns `[sku]` on the table `ProductVariant` will be added. If there are existing duplicate values, this will fail.

*/

-- SKUs copied between variants by the old vendor import; make the copies unique first.
UPDATE "ProductVariant" v
SET "sku" = v."sku" || '-' || v."id"
WHERE EXISTS (
    SELECT 1 FROM "ProductVariant" o
    WHERE o."sku" = v."sku" AND o."id" < v."id"
);

-- CreateIndex
CREATE UNIQUE INDEX "ProductVariant_sku_key" ON "ProductVariant"("sku");
