-- Rows for the live SQLite detection cases (deterministic: see expected.toml). 100 users (25
-- without a name), 150 orders (50 orphans, 19 with a negative total), 200 sessions (40 expired).
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100)
INSERT INTO "User" ("email", "name", "score")
SELECT 'user' || n || '@example.com', CASE WHEN n % 4 = 0 THEN NULL ELSE 'User ' || n END, n FROM g;

WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 150)
INSERT INTO "Order" ("userId", "total") SELECT n, n - 20 FROM g;

WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 200)
INSERT INTO "Session" ("userId", "expiresAt")
SELECT ((n - 1) % 100) + 1, CASE WHEN n % 5 = 0 THEN 1600000000000 ELSE 1900000000000 END FROM g;
