-- Hand-written: Prisma generated a new enum and a cast that would fail on the 1,000 cancelled
-- orders. Rename the value in place instead.
ALTER TYPE "OrderStatus" RENAME VALUE 'CANCELED' TO 'CANCELLED';
