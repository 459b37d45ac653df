INSERT INTO "CouponRedemption" ("id", "couponId", "userId", "orderId", "createdAt")
SELECT 'red_' || o."id", o."couponId", o."userId", o."id", o."createdAt"
FROM "Order" o
WHERE o."couponId" IS NOT NULL;
