-- Hand-edited: rename instead of Prisma's drop + add.
ALTER TABLE "Order" RENAME COLUMN "internalNote" TO "staffNote";
