-- The fulfilment dashboard only ever looks at open orders: a partial index keeps it small.
CREATE INDEX "Order_open_idx" ON "Order" ("createdAt") WHERE "status" IN ('PENDING', 'PAID');
