/*
  Warnings:

  - You are about to alter the column `totalCents` on the `Invoice` table, which contains 600 non-null values. The data in that column will be cast from `Integer` to `BigInt`.

*/

-- AlterTable
ALTER TABLE "billing"."Invoice" ALTER COLUMN "totalCents" SET DATA TYPE BIGINT;
