/*
  Warnings:

  - You are about to drop the column `wordCount` on the `Note` table. All the data in the column will be lost.

*/

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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Note_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Note" ("archivedAt", "body", "createdAt", "id", "notebookId", "pinned", "title", "updatedAt") SELECT "archivedAt", "body", "createdAt", "id", "notebookId", "pinned", "title", "updatedAt" FROM "Note";
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
