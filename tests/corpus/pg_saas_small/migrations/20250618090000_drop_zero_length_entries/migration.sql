-- Timers stopped the moment they were started (double clicks).
DELETE FROM "public"."TimeEntry"
WHERE "endedAt" IS NOT NULL
  AND "endedAt" <= "startedAt";
