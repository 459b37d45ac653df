-- AlterTable
ALTER TABLE "public"."ApiKey" ADD COLUMN     "scopes" TEXT[] DEFAULT ARRAY[]::TEXT[];
