-- AlterTable
ALTER TABLE "User" ADD COLUMN     "marketingOptInAt" TIMESTAMP(3);
