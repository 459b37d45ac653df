-- Called by the worker every hour; returns how many published events it removed.
CREATE OR REPLACE FUNCTION public.purge_published_outbox(keep interval DEFAULT interval '7 days')
RETURNS integer
LANGUAGE plpgsql
AS $purge$
DECLARE
    removed integer;
BEGIN
    DELETE FROM "public"."OutboxEvent"
    WHERE "publishedAt" IS NOT NULL AND "publishedAt" < now() - keep;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$purge$;

COMMENT ON FUNCTION public.purge_published_outbox(interval) IS 'Outbox retention; see docs/outbox.md';
