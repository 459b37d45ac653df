-- Shipping weight defaults to the heaviest variant plus 80 g of packaging.
UPDATE "Product" p
SET "shippingWeightG" = v.max_weight + 80
FROM (SELECT "productId", max("weightGrams") AS max_weight FROM "ProductVariant" GROUP BY "productId") v
WHERE v."productId" = p."id"
  AND p."shippingWeightG" IS NULL;
