-- CreateEnum
CREATE TYPE "TicketPriority" AS ENUM ('LOW', 'NORMAL', 'HIGH', 'URGENT');

-- AlterTable
ALTER TABLE "SupportTicket" ADD COLUMN     "priority" "TicketPriority" NOT NULL DEFAULT 'NORMAL';
