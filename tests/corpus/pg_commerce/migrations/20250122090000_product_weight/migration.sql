-- AlterTable
ALTER TABLE "Product" ADD COLUMN     "shippingWeightG" INTEGER;
