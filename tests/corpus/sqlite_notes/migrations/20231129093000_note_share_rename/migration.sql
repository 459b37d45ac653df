-- Hand-written: Prisma would drop "Share" and create "NoteShare".
ALTER TABLE "Share" RENAME TO "NoteShare";

DROP INDEX "Share_noteId_userId_key";
CREATE UNIQUE INDEX "NoteShare_noteId_userId_key" ON "NoteShare"("noteId", "userId");
