-- CreateTable
CREATE TABLE "billing"."BillingEvent" (
    "id" BIGINT GENERATED ALWAYS AS IDENTITY,
    "orgId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BillingEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BillingEvent_orgId_createdAt_idx" ON "billing"."BillingEvent"("orgId", "createdAt");
