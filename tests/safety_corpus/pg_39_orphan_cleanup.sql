-- Orphan rows must go before the foreign key can be added
DELETE FROM "Order" WHERE "userId" NOT IN (SELECT "id" FROM "User");

-- orders of deleted users, through a join
DELETE FROM "Order" AS o
USING "User" AS u
WHERE o."userId" = u."id" AND u."deletedAt" IS NOT NULL;

DELETE FROM "Session" WHERE "expiresAt" < now();

-- AddForeignKey
ALTER TABLE "Order" ADD CONSTRAINT "Order_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
