-- AlterTable
ALTER TABLE "Order" ADD COLUMN "shippingAddressSnapshot" JSONB;

-- Copy the address each order shipped to; addresses can be edited or deleted later.
UPDATE "Order" o
SET "shippingAddressSnapshot" = jsonb_build_object(
        'line1', a."line1", 'line2', a."line2", 'city', a."city",
        'postalCode', a."postalCode", 'country', a."country")
FROM "Address" a
WHERE a."id" = o."shippingAddressId";
