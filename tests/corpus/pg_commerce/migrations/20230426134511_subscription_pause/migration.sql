-- AlterTable
ALTER TABLE "Subscription" ADD COLUMN     "pausedUntil" TIMESTAMP(3);
