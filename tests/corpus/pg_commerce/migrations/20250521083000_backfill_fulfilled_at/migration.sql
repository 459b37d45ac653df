UPDATE "public"."Order" o
SET "fulfilledAt" = s."shippedAt"
FROM "public"."Shipment" s
WHERE s."orderId" = o."id"
  AND s."shippedAt" IS NOT NULL
  AND o."fulfilledAt" IS NULL;
