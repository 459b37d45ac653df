-- Hand-written: rename the value in place (Prisma's type swap would fail on cancelled rows).
ALTER TYPE "billing"."SubscriptionStatus" RENAME VALUE 'CANCELED' TO 'CANCELLED';
