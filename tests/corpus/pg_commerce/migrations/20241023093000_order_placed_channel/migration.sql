-- CreateEnum
CREATE TYPE "SalesChannel" AS ENUM ('WEB', 'IOS', 'ANDROID', 'POS');

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "channel" "SalesChannel" NOT NULL DEFAULT 'WEB';
