-- AlterTable
ALTER TABLE "Subscription" ADD COLUMN     "lockedPriceCents" INTEGER;
