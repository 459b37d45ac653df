/*
  Warnings:

  - You are about to drop the column `deliveredAt` on the `Shipment` table. All the data in the column will be lost.

*/

-- "deliveredAt" duplicated the DELIVERED status change in the carrier webhook log.
-- AlterTable
ALTER TABLE "public"."Shipment" DROP COLUMN "deliveredAt";
