-- AlterTable
ALTER TABLE "GiftCard" ADD COLUMN     "currency" TEXT NOT NULL DEFAULT 'EUR';
