/*
  Warnings:

  - A unique constraint covering the columns `[userId,productId]` on the table `WishlistItem` will be added. If there are existing duplicate values, this will fail.

*/

-- Double taps on the heart icon created duplicates; keep the oldest of each pair.
WITH ranked AS (
    SELECT "id", row_number() OVER (PARTITION BY "userId", "productId" ORDER BY "createdAt", "id") AS rn
    FROM "WishlistItem"
)
DELETE FROM "WishlistItem" w
USING ranked
WHERE w."id" = ranked."id" AND ranked.rn > 1;

-- CreateIndex
CREATE UNIQUE INDEX "WishlistItem_userId_productId_key" ON "WishlistItem"("userId", "productId");
