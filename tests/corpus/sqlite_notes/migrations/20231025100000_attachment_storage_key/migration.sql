-- AlterTable
ALTER TABLE "Attachment" ADD COLUMN "storageKey" TEXT;
