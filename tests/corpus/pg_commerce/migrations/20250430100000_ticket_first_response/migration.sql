-- AlterTable
ALTER TABLE "SupportTicket" ADD COLUMN     "firstResponseAt" TIMESTAMP(3);
