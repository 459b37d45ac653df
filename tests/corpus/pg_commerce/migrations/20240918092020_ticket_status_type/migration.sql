-- Hand-written: consistent enum naming (<Model><Field>); Prisma would recreate the column.
ALTER TYPE "TicketStatus" RENAME TO "SupportTicketStatus";
