DELETE FROM "Comment" WHERE "resolvedAt" IS NOT NULL AND "resolvedAt" < 1704067200000;
