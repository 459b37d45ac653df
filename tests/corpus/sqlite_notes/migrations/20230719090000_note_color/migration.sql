-- AlterTable
ALTER TABLE "Note" ADD COLUMN "color" TEXT;
