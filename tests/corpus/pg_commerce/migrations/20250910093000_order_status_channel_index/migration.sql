-- CreateIndex
CREATE INDEX "Order_channel_createdAt_idx" ON "public"."Order"("channel", "createdAt");
