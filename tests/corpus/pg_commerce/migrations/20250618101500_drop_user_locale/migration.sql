/*
  Warnings:

  - You are about to drop the column `locale` on the `User` table. All the data in the column will be lost.
  - You are about to drop the column `timezone` on the `User` table. All the data in the column will be lost.

*/

-- AlterTable
ALTER TABLE "public"."User" DROP COLUMN "locale",
DROP COLUMN "timezone";
