-- AlterTable
ALTER TABLE "Roaster" ADD COLUMN     "commissionRate" DECIMAL(5,4) NOT NULL DEFAULT 0.15,
ADD COLUMN     "payoutIban" TEXT;
