-- CreateIndex
CREATE INDEX "Vendor_name_idx" ON "Vendor" USING GIN ("name" gin_trgm_ops);
