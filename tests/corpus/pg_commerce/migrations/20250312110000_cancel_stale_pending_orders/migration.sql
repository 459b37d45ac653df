-- Orders stuck in PENDING (payment never completed) before 2024 are cancelled.
UPDATE "Order"
SET "status" = 'CANCELLED', "staffNote" = coalesce("staffNote" || E'\n', '') || 'auto-cancelled 2025-03 (stale pending)'
WHERE "status" = 'PENDING'
  AND "createdAt" < '2024-01-01';
