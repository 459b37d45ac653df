-- Hand-edited: Prisma generated DROP COLUMN "method" + ADD COLUMN "provider", which would lose
-- every payment's method. Rename the type and the column instead.
ALTER TYPE "PaymentMethod" RENAME TO "PaymentProvider";

ALTER TABLE "Payment" RENAME COLUMN "method" TO "provider";
