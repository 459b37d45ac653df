-- RedefineTables: one session per user from now on; the copy keeps the newest of each.
-- The trigger that names "Session" goes first (SQLite refuses the RENAME while it points nowhere).
DROP TRIGGER "session_cleanup";
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Session" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" INTEGER NOT NULL,
    "expiresAt" DATETIME NOT NULL
);
INSERT INTO "new_Session" ("id", "userId", "expiresAt")
SELECT max("id"), "userId", max("expiresAt") FROM "Session" GROUP BY "userId";
DROP TABLE "Session";
ALTER TABLE "new_Session" RENAME TO "Session";
CREATE UNIQUE INDEX "Session_userId_key" ON "Session"("userId");
CREATE TRIGGER "session_cleanup" AFTER DELETE ON "User"
BEGIN
  DELETE FROM "Session" WHERE "userId" = OLD."id";
END;
PRAGMA foreign_keys=ON;
