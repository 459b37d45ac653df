-- Hand-written: built CONCURRENTLY (OrderItem is large and written all day); a concurrent
-- build cannot run inside a transaction, so it is the only statement of this migration.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "OrderItem_variantId_idx" ON "OrderItem"("variantId");
