/*
  Warnings:

  - You are about to alter the column `priceCents` on the `Product` table, which contains 1200 non-null values. The data in that column will be cast from `Integer` to `BigInt`.
  - You are about to alter the column `priceCents` on the `ProductVariant` table, which contains 3600 non-null values. The data in that column will be cast from `Integer` to `BigInt`.

*/

-- AlterTable
ALTER TABLE "Product" ALTER COLUMN "priceCents" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "ProductVariant" ALTER COLUMN "priceCents" SET DATA TYPE BIGINT;
