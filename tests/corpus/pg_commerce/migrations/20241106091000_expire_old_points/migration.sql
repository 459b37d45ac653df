-- Points earned before 2023 expired on 2024-10-31 (terms of service §7).
INSERT INTO "LoyaltyLedger" ("userId", "delta", "reason", "createdAt")
SELECT "userId", -sum("delta"), 'expiry-2024-10-31', '2024-10-31 23:59:59'
FROM "LoyaltyLedger"
WHERE "createdAt" < '2023-01-01'
GROUP BY "userId"
HAVING sum("delta") > 0;
