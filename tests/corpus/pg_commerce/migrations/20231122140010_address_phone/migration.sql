-- AlterTable
ALTER TABLE "Address" ADD COLUMN     "phone" TEXT;
