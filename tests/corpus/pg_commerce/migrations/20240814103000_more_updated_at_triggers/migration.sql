-- Every table with "updatedAt" gets the trigger (support edits rows with SQL).
DO $do$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['Cart', 'Subscription', 'SupportTicket'] LOOP
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION set_updated_at()',
            t || '_set_updated_at', t
        );
    END LOOP;
END
$do$;
