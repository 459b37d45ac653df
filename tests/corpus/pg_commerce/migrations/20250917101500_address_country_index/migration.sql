-- CreateIndex
CREATE INDEX "Address_country_idx" ON "public"."Address"("country");
