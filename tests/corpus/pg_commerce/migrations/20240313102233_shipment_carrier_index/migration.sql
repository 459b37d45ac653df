-- CreateIndex
CREATE INDEX "Shipment_carrier_status_idx" ON "Shipment"("carrier", "status");
