-- CreateTable
CREATE TABLE "NoteRevision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "noteId" INTEGER NOT NULL,
    "body" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "NoteRevision_noteId_createdAt_idx" ON "NoteRevision"("noteId", "createdAt");

-- Keep the previous body of every edited note (hand-written; Prisma does not manage triggers).
CREATE TRIGGER "Note_revision" AFTER UPDATE OF "body" ON "Note"
WHEN OLD."body" <> NEW."body"
BEGIN
    INSERT INTO "NoteRevision" ("noteId", "body", "createdAt")
    VALUES (OLD."id", OLD."body", CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
