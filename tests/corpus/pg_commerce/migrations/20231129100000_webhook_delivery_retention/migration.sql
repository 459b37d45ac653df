-- Delivered webhooks older than the retry window; in batches so the table stays writable.
DO $$
DECLARE
    deleted integer;
BEGIN
    LOOP
        DELETE FROM "WebhookDelivery"
        WHERE "id" IN (
            SELECT "id" FROM "WebhookDelivery"
            WHERE "deliveredAt" IS NOT NULL AND "createdAt" < '2023-06-01'
            LIMIT 1000
        );
        GET DIAGNOSTICS deleted = ROW_COUNT;
        EXIT WHEN deleted = 0;
    END LOOP;
END
$$;
