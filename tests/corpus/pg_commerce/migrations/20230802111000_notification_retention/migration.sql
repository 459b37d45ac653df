-- Read notifications older than six months are not shown anywhere (retention policy v1).
DELETE FROM "Notification"
WHERE "readAt" IS NOT NULL
  AND "createdAt" < '2023-01-01';
