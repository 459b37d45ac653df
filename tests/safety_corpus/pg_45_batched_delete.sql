-- Expired sessions, deleted in batches so the table stays writable
DO $$
DECLARE
    deleted integer;
BEGIN
    LOOP
        DELETE FROM "Session"
        WHERE "id" IN (
            SELECT "id" FROM "Session" WHERE "expiresAt" < now() LIMIT 10
        );
        GET DIAGNOSTICS deleted = ROW_COUNT;
        EXIT WHEN deleted = 0;
    END LOOP;
END
$$;
