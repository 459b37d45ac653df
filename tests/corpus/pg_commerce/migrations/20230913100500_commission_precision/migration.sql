-- AlterTable
ALTER TABLE "Roaster" ALTER COLUMN "commissionRate" SET DATA TYPE DECIMAL(6,4);
