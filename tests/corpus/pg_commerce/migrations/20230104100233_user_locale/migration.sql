-- AlterTable
ALTER TABLE "User" ADD COLUMN     "locale" TEXT NOT NULL DEFAULT 'de-DE',
ADD COLUMN     "timezone" TEXT;
