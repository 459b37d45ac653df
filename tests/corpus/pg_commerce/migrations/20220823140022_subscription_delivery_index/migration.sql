-- CreateIndex
CREATE INDEX "Subscription_nextDeliveryAt_idx" ON "Subscription"("nextDeliveryAt");
