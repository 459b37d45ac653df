/*
  Warnings:

  - Made the column `remindAt` on table `Reminder` required, but there are existing NULL values.

*/

-- Hand-edited: done reminders and reminders without a time are not copied.
-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Reminder" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "noteId" INTEGER NOT NULL,
    "remindAt" DATETIME NOT NULL,
    "done" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "Reminder_noteId_fkey" FOREIGN KEY ("noteId") REFERENCES "Note" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Reminder" ("done", "id", "noteId", "remindAt") SELECT "done", "id", "noteId", "remindAt" FROM "Reminder"
WHERE "remindAt" IS NOT NULL AND "done" = false AND "noteId" IN (SELECT "id" FROM "Note");
DROP TABLE "Reminder";
ALTER TABLE "new_Reminder" RENAME TO "Reminder";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
