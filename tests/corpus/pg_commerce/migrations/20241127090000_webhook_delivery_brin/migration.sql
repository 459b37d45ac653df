-- WebhookDelivery is append-only and read by time range: BRIN is tiny compared to a btree.
CREATE INDEX "WebhookDelivery_createdAt_brin" ON "WebhookDelivery" USING BRIN ("createdAt");
