-- CreateTable
CREATE TABLE "public"."VendorSlugRedirect" (
    "oldSlug" TEXT NOT NULL,
    "vendorId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VendorSlugRedirect_pkey" PRIMARY KEY ("oldSlug")
);

-- AddForeignKey
ALTER TABLE "public"."VendorSlugRedirect" ADD CONSTRAINT "VendorSlugRedirect_vendorId_fkey" FOREIGN KEY ("vendorId") REFERENCES "public"."Vendor"("id") ON DELETE CASCADE ON UPDATE CASCADE;
