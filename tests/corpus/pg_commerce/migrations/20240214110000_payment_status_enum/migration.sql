/*
  Warnings:

  - The `status` column on the `Payment` table would be dropped and recreated. This will lead to data loss if there is data in the column.

*/

-- The payment service wrote lowercase statuses; the enum is uppercase.
UPDATE "Payment" SET "status" = upper("status");

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- AlterTable
ALTER TABLE "Payment" ALTER COLUMN "status" SET DATA TYPE "PaymentStatus" USING ("status"::"PaymentStatus");
