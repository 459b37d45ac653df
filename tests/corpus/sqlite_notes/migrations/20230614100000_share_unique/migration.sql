/*
  Warnings:

  - A unique constraint covering the columns `[noteId,userId]` on the table `Share` will be added. If there are existing duplicate values, this will fail.

*/

-- Sharing twice created two rows; keep the first.
DELETE FROM "Share"
WHERE "id" NOT IN (SELECT min("id") FROM "Share" GROUP BY "noteId", "userId");
-- CreateIndex
CREATE UNIQUE INDEX "Share_noteId_userId_key" ON "Share"("noteId", "userId");
