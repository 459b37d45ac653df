/*
  Warnings:

  - You are about to alter the column `description` on the `Product` table, which contains 960 non-null values. The data in that column will be cast from `Text` to `VarChar(4000)`.

*/

-- AlterTable
ALTER TABLE "Product" ALTER COLUMN "description" SET DATA TYPE VARCHAR(4000);
