-- Rows for the live detection cases (deterministic: the expected counts in expected.toml follow
-- from these formulas). 100 users, 150 orders (50 of them orphans), 200 sessions, 60 posts, 30 logs.
INSERT INTO "User" ("email", "name", "role", "deletedAt")
SELECT 'user' || g || '@example.com',
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'User ' || g END,
       (CASE WHEN g <= 5 THEN 'ADMIN' WHEN g <= 10 THEN 'MODERATOR' ELSE 'USER' END)::"Role",
       CASE WHEN g % 10 = 0 THEN now() - interval '40 days' END
FROM generate_series(1, 100) AS g;

INSERT INTO "Order" ("userId", "status", "total")
SELECT g, (CASE WHEN g % 3 = 0 THEN 'PAID' ELSE 'PENDING' END)::"OrderStatus", g - 20
FROM generate_series(1, 150) AS g;

INSERT INTO "Session" ("userId", "expiresAt")
SELECT ((g - 1) % 100) + 1, CASE WHEN g % 5 = 0 THEN now() - interval '1 day' ELSE now() + interval '1 day' END
FROM generate_series(1, 200) AS g;

INSERT INTO "Post" ("authorId", "title", "wordCount")
SELECT ((g - 1) % 100) + 1, 'Post ' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE g END
FROM generate_series(1, 60) AS g;
-- the trigger fills NULL word counts with 0: put the NULLs back for the backfill cases
ALTER TABLE "Post" DISABLE TRIGGER "post_touch";
UPDATE "Post" SET "wordCount" = NULL WHERE "id" % 2 = 0;
ALTER TABLE "Post" ENABLE TRIGGER "post_touch";

INSERT INTO "audit"."Log" ("at", "message")
SELECT now() - g * interval '1 day', 'event ' || g FROM generate_series(1, 30) AS g;

REFRESH MATERIALIZED VIEW "OrderTotals";
