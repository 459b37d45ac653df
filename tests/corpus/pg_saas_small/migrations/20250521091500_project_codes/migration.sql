/*
  Warnings:

  - A unique constraint covering the columns `[orgId,code]` on the table `Project` will be added. If there are existing duplicate values, this will fail.

*/

-- AlterTable
ALTER TABLE "public"."Project" ADD COLUMN "code" TEXT;

UPDATE "public"."Project"
SET "code" = upper(left(regexp_replace("name", '[^A-Za-z]', '', 'g'), 3)) || '-' || left("id"::text, 4)
WHERE "code" IS NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Project_orgId_code_key" ON "public"."Project"("orgId", "code");
