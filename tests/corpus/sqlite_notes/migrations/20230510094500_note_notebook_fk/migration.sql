-- Hand-edited: notes of deleted notebooks (the app never cascaded) are not copied.
-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Note" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "notebookId" INTEGER NOT NULL,
    "title" TEXT,
    "body" TEXT NOT NULL,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "archivedAt" DATETIME,
    "wordCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Note_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Note" ("archivedAt", "body", "createdAt", "id", "notebookId", "pinned", "title", "updatedAt", "wordCount") SELECT "archivedAt", "body", "createdAt", "id", "notebookId", "pinned", "title", "updatedAt", "wordCount" FROM "Note"
WHERE "notebookId" IN (SELECT "id" FROM "Notebook");
DROP TABLE "Note";
ALTER TABLE "new_Note" RENAME TO "Note";
CREATE INDEX "Note_notebookId_updatedAt_idx" ON "Note"("notebookId", "updatedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- The redefined "Note" lost its trigger with the old table: create it again.
CREATE TRIGGER "Note_revision" AFTER UPDATE OF "body" ON "Note"
WHEN OLD."body" <> NEW."body"
BEGIN
    INSERT INTO "NoteRevision" ("noteId", "body", "createdAt")
    VALUES (OLD."id", OLD."body", CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
