-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN "icon" TEXT;
