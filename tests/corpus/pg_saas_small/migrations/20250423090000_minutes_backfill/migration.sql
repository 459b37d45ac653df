UPDATE "public"."TimeEntry"
SET "minutes" = ceil(extract(epoch FROM "endedAt" - "startedAt") / 60)::int
WHERE "endedAt" IS NOT NULL
  AND "minutes" IS NULL;
