-- CreateTable
CREATE TABLE "SyncCursor" (
    "deviceId" TEXT NOT NULL PRIMARY KEY,
    "cursor" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "SyncCursor_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
