COMMENT ON TABLE "Order" IS 'One checkout. totalCents includes VAT; shipping is added separately.';
COMMENT ON COLUMN "Order"."number" IS 'Shown to customers; starts at 100000.';
COMMENT ON TABLE "Roaster" IS 'A seller on the marketplace.';
COMMENT ON COLUMN "Product"."priceCents" IS 'Base price of the smallest variant, in euro cents.';
