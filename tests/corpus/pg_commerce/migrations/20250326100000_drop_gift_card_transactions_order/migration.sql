/*
  Warnings:

  - You are about to drop the column `orderId` on the `GiftCardTransaction` table. All the data in the column will be lost.

*/

-- AlterTable
ALTER TABLE "GiftCardTransaction" DROP COLUMN "orderId";
