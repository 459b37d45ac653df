-- AlterTable
ALTER TABLE "public"."TicketMessage" ADD COLUMN     "internal" BOOLEAN NOT NULL DEFAULT false;
