-- Retention policy v2: read notifications are kept for one year.
DELETE FROM "Notification" n
WHERE n."readAt" < '2023-12-18'
  AND n."channel" = 'IN_APP';
