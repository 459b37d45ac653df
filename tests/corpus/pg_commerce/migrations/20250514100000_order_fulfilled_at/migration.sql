-- AlterTable
ALTER TABLE "public"."Order" ADD COLUMN     "fulfilledAt" TIMESTAMPTZ(3);
