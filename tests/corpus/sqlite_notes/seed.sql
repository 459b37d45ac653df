-- Margin: one busy shared workspace database as of May 2023 (the schema after 20230503083000).
-- Deterministic (numbers from a recursive CTE); DateTime values are Unix milliseconds, as
-- Prisma Client stores them in SQLite.

CREATE TEMP TABLE seq AS
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 15000)
SELECT i FROM n;

-- 500 users; every 10th signed up with capital letters in the email address.
INSERT INTO "User" ("id", "email", "name", "displayName", "passwordHash", "createdAt")
SELECT i,
       CASE WHEN i % 10 = 0 THEN 'User' || i || '@Example.com' ELSE 'user' || i || '@example.com' END,
       CASE WHEN i % 6 = 0 THEN NULL ELSE 'Person ' || i END,
       NULL,
       'scrypt$' || hex(randomblob(0)) || printf('%08x', i * 2654435761 % 4294967296),
       1640995200000 + i * 17280000
FROM seq WHERE i <= 500;

-- 2,000 notebooks, and 100 "Untitled" ones the onboarding created and nobody used.
INSERT INTO "Notebook" ("id", "ownerId", "title", "color", "position", "createdAt", "updatedAt")
SELECT i, (i - 1) % 500 + 1,
       CASE WHEN i <= 2000 THEN 'Notebook ' || i ELSE 'Untitled' END,
       CASE i % 4 WHEN 0 THEN 'blue' WHEN 1 THEN 'green' ELSE NULL END,
       i % 12,
       1641000000000 + i * 3600000, 1641000000000 + i * 3600000
FROM seq WHERE i <= 2100;

-- 12,000 notes, and 250 whose notebook was deleted (the app never cascaded).
INSERT INTO "Note" ("id", "notebookId", "title", "body", "pinned", "archivedAt", "wordCount", "createdAt", "updatedAt")
SELECT i,
       CASE WHEN i <= 12000 THEN (i - 1) % 2000 + 1 ELSE 99000 + i END,
       CASE WHEN i % 8 = 0 THEN NULL ELSE 'Note ' || i END,
       CASE WHEN i % 50 = 0 THEN '' ELSE 'Meeting notes about ' || (i % 37) || ' topics and follow ups for week ' || (i % 52) END,
       i % 20 = 0,
       NULL,
       0,
       1640995200000 + i * 3500000,
       1640995200000 + i * 3500000
FROM seq WHERE i <= 12250;

INSERT INTO "Tag" ("id", "name") SELECT i, 'tag' || i FROM seq WHERE i <= 200;

INSERT INTO "NoteTag" ("noteId", "tagId")
SELECT (i - 1) % 12250 + 1, (i * 7) % 200 + 1 FROM seq WHERE i <= 15000;

-- 3,000 attachments; every 20th upload was empty.
INSERT INTO "Attachment" ("id", "noteId", "fileName", "mime", "size", "createdAt")
SELECT i, (i * 3) % 12250 + 1, 'file' || i || CASE i % 3 WHEN 0 THEN '.png' WHEN 1 THEN '.pdf' ELSE '.jpg' END,
       CASE i % 3 WHEN 0 THEN 'image/png' WHEN 1 THEN 'application/pdf' ELSE 'image/jpeg' END,
       CASE WHEN i % 20 = 0 THEN 0 ELSE 1000 + i * 37 END,
       1641100000000 + i * 10000000
FROM seq WHERE i <= 3000;

INSERT INTO "Setting" ("userId", "key", "value")
SELECT (i - 1) % 500 + 1, CASE (i - 1) / 500 WHEN 0 THEN 'theme' WHEN 1 THEN 'fontSize' ELSE 'spellcheck' END,
       CASE (i - 1) / 500 WHEN 0 THEN 'dark' WHEN 1 THEN '14' ELSE 'on' END
FROM seq WHERE i <= 1500;

-- 2,000 reminders: 200 without a time, 600 done.
INSERT INTO "Reminder" ("id", "noteId", "remindAt", "done")
SELECT i, (i * 5) % 12000 + 1,
       CASE WHEN i % 10 = 0 THEN NULL ELSE 1672531200000 + i * 7200000 END,
       i % 10 IN (1, 2, 3)
FROM seq WHERE i <= 2000;

-- 5,000 revisions; notes 1-100 were edited 30 times each.
INSERT INTO "NoteRevision" ("id", "noteId", "body", "createdAt")
SELECT i, CASE WHEN i <= 3000 THEN (i - 1) % 100 + 1 ELSE (i * 7) % 12000 + 1 END,
       'Earlier version ' || i, 1641000000000 + i * 600000
FROM seq WHERE i <= 5000;

-- 800 shares; the last 50 repeat earlier ones (sharing twice created a second row).
INSERT INTO "Share" ("id", "noteId", "userId", "permission", "createdAt")
SELECT i, (CASE WHEN i <= 750 THEN i ELSE i - 750 END) * 13 % 12000 + 1,
       (CASE WHEN i <= 750 THEN i ELSE i - 750 END) * 3 % 500 + 1,
       CASE WHEN i % 4 = 0 THEN 'write' ELSE 'read' END,
       1650000000000 + i * 3600000
FROM seq WHERE i <= 800;

INSERT INTO "Device" ("id", "userId", "name", "lastSeenAt", "createdAt")
SELECT 'dev-' || i, (i - 1) % 500 + 1, CASE i % 3 WHEN 0 THEN 'MacBook' WHEN 1 THEN 'iPhone' ELSE 'Windows PC' END,
       1682899200000 + i * 60000, 1650000000000 + i * 86400000 / 10
FROM seq WHERE i <= 700;

INSERT INTO "SyncCursor" ("deviceId", "cursor", "updatedAt")
SELECT 'dev-' || i, i * 10, 1682899200000 + i * 60000 FROM seq WHERE i <= 700;

DROP TABLE seq;
