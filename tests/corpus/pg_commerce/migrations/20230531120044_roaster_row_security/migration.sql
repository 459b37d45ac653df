-- Roaster dashboards connect with app.roaster_id set; the policy keeps them to their own rows.
-- The application's owner role bypasses RLS (no FORCE), so Prisma Client is unaffected.
ALTER TABLE "Product" ENABLE ROW LEVEL SECURITY;

CREATE POLICY roaster_isolation ON "Product"
    USING (current_setting('app.roaster_id', true) IS NULL
           OR "roasterId" = current_setting('app.roaster_id', true));

ALTER TABLE "ApiKey" ENABLE ROW LEVEL SECURITY;

CREATE POLICY roaster_isolation ON "ApiKey"
    USING (current_setting('app.roaster_id', true) IS NULL
           OR "roasterId" = current_setting('app.roaster_id', true));
