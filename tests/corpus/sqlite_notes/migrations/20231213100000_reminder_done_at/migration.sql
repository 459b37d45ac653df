-- AlterTable
ALTER TABLE "Reminder" ADD COLUMN "doneAt" DATETIME;
