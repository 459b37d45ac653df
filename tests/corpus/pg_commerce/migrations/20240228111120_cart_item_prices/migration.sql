/*
  Warnings:

  - Added the required column `unitPriceCents` to the `CartItem` table without a default value. This is not possible if the table is not empty.

*/

-- Carts are rebuilt from the client on next login; prices are now fixed when added.
TRUNCATE TABLE "CartItem";

-- AlterTable
ALTER TABLE "CartItem" ADD COLUMN     "unitPriceCents" INTEGER NOT NULL;
