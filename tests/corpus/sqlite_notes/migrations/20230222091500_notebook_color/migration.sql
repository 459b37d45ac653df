-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN "color" TEXT;
