-- Reviews imported for products that never made it to the new shop.
DELETE FROM "Review" r
WHERE NOT EXISTS (SELECT 1 FROM "Product" p WHERE p."id" = r."productId");

-- AddForeignKey
ALTER TABLE "Review" ADD CONSTRAINT "Review_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product"("id") ON DELETE CASCADE ON UPDATE CASCADE;
