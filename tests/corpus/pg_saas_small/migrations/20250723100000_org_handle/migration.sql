-- Hand-edited: rename instead of Prisma's drop + add; the unique index follows the column name.
ALTER TABLE "public"."Organization" RENAME COLUMN "slug" TO "handle";
ALTER INDEX "public"."Organization_slug_key" RENAME TO "Organization_handle_key";
