-- AlterTable
ALTER TABLE "public"."Vendor" ADD COLUMN     "tierId" TEXT;

-- CreateTable
CREATE TABLE "public"."CommissionTier" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "rate" DECIMAL(6,4) NOT NULL,
    "minRevenue" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "CommissionTier_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CommissionTier_name_key" ON "public"."CommissionTier"("name");

-- AddForeignKey
ALTER TABLE "public"."Vendor" ADD CONSTRAINT "Vendor_tierId_fkey" FOREIGN KEY ("tierId") REFERENCES "public"."CommissionTier"("id") ON DELETE SET NULL ON UPDATE CASCADE;
