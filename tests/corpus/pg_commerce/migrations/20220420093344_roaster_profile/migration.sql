-- AlterTable
ALTER TABLE "Roaster" ADD COLUMN     "country" TEXT NOT NULL DEFAULT 'DE',
ADD COLUMN     "description" TEXT,
ADD COLUMN     "logoUrl" TEXT,
ADD COLUMN     "websiteUrl" TEXT;
