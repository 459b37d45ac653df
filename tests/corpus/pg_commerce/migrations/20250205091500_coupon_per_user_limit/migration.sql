-- AlterTable
ALTER TABLE "Coupon" ADD COLUMN     "perUserLimit" INTEGER;
