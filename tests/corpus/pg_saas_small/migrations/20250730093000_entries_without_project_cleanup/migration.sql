-- Entries of archived projects older than the retention period (12 months).
DELETE FROM "public"."TimeEntry" e
USING "public"."Project" p
WHERE p."id" = e."projectId"
  AND p."archived"
  AND e."startedAt" < '2024-08-01';
