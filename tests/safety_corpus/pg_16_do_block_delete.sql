-- Clean up orphaned sessions before adding the foreign key
DO $cleanup$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'Session') THEN
        DELETE FROM "Session";
    END IF;
END
$cleanup$;
