-- CreateEnum
CREATE TYPE "PayoutSchedule" AS ENUM ('WEEKLY', 'MONTHLY');

-- AlterTable
ALTER TABLE "Vendor" ADD COLUMN     "payoutSchedule" "PayoutSchedule" NOT NULL DEFAULT 'MONTHLY';
