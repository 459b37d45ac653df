-- Notes nobody touched for a year move to the archive (2023-07-26).
UPDATE "Note"
SET "archivedAt" = 1690329600000
WHERE "archivedAt" IS NULL
  AND "updatedAt" < 1658793600000;
