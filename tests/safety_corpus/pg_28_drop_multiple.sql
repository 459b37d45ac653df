/*
  Warnings:

  - You are about to drop the column `legacyId` on the `Order` table. All the data in the column will be lost.
  - You are about to drop the `OrderNote` table. If the table is not empty, all the data it contains will be lost.

*/
-- DropForeignKey
ALTER TABLE "OrderNote" DROP CONSTRAINT "OrderNote_orderId_fkey";

-- DropIndex
DROP INDEX "Order_legacyId_key";

-- AlterTable
ALTER TABLE "Order" DROP COLUMN "legacyId",
ADD COLUMN     "externalRef" TEXT;

-- DropTable
DROP TABLE "OrderNote";
