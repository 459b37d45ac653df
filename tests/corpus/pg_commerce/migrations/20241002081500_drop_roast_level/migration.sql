/*
  Warnings:

  - You are about to drop the column `roastLevel` on the `Product` table. All the data in the column will be lost.

*/

-- AlterTable
ALTER TABLE "Product" DROP COLUMN "roastLevel",
ADD COLUMN     "roastProfile" TEXT;
