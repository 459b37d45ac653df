-- CreateTable
CREATE TABLE "Reminder" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "noteId" INTEGER NOT NULL,
    "remindAt" DATETIME,
    "done" BOOLEAN NOT NULL DEFAULT false
);
