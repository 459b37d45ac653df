/*
  Warnings:

  - Made the column `currency` on table `Order` required, but there are 6000 existing NULL values.

*/

-- Orders from before multi-currency support are all in euro.
UPDATE "Order" SET "currency" = 'EUR' WHERE "currency" IS NULL;

-- AlterTable
ALTER TABLE "Order" ALTER COLUMN "currency" SET NOT NULL,
ALTER COLUMN "currency" SET DEFAULT 'EUR';
