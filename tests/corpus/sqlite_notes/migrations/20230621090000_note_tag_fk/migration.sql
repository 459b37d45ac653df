-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_NoteTag" (
    "noteId" INTEGER NOT NULL,
    "tagId" INTEGER NOT NULL,

    PRIMARY KEY ("noteId", "tagId"),
    CONSTRAINT "NoteTag_noteId_fkey" FOREIGN KEY ("noteId") REFERENCES "Note" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "NoteTag_tagId_fkey" FOREIGN KEY ("tagId") REFERENCES "Tag" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_NoteTag" ("noteId", "tagId") SELECT "noteId", "tagId" FROM "NoteTag"
WHERE "noteId" IN (SELECT "id" FROM "Note");
DROP TABLE "NoteTag";
ALTER TABLE "new_NoteTag" RENAME TO "NoteTag";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
