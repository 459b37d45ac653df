-- AlterTable
ALTER TABLE "Product" ADD COLUMN     "originCountry" TEXT,
ADD COLUMN     "process" TEXT,
ADD COLUMN     "roastLevel" INTEGER;
