-- AlterTable
ALTER TABLE "LoyaltyLedger" ADD COLUMN     "expiresAt" TIMESTAMP(3);
