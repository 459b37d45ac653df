-- AlterTable
ALTER TABLE "Roaster" ADD COLUMN     "verifiedAt" TIMESTAMP(3);
