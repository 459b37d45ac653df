-- Custom migration: create the enum only when it is missing (re-runnable); a comment with a ; inside.
DO $$ BEGIN
    CREATE TYPE "Status" AS ENUM ('DRAFT', 'PUBLISHED'); -- idempotent; safe
EXCEPTION
    WHEN duplicate_object THEN null;
END $$;

-- AlterTable
ALTER TABLE "Post" ADD COLUMN "status" "Status" NOT NULL DEFAULT 'DRAFT';
