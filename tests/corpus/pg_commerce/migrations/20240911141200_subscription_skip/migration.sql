-- AlterTable
ALTER TABLE "Subscription" ADD COLUMN     "skipNext" BOOLEAN NOT NULL DEFAULT false;
