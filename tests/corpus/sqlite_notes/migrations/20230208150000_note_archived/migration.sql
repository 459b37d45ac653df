-- AlterTable
ALTER TABLE "Note" ADD COLUMN "archivedAt" DATETIME;
