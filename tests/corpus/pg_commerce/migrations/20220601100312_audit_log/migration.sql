-- Audit trail for orders and payments (compliance). Lives outside Prisma's schema on purpose.
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE audit.log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text        NOT NULL,
    op          char(1)     NOT NULL CHECK (op IN ('I', 'U', 'D')),
    row_id      text,
    old_data    jsonb,
    new_data    jsonb,
    changed_by  text        DEFAULT current_setting('app.user_id', true),
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX log_table_row_idx ON audit.log (table_name, row_id);

COMMENT ON TABLE audit.log IS 'Row changes of audited tables; written by audit.log_change(). Never edit by hand.';

CREATE OR REPLACE FUNCTION audit.log_change() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO audit.log (table_name, op, row_id, old_data)
        VALUES (TG_TABLE_NAME, 'D', OLD.id::text, to_jsonb(OLD));
        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit.log (table_name, op, row_id, old_data, new_data)
        VALUES (TG_TABLE_NAME, 'U', NEW.id::text, to_jsonb(OLD), to_jsonb(NEW));
        RETURN NEW;
    END IF;
    INSERT INTO audit.log (table_name, op, row_id, new_data)
    VALUES (TG_TABLE_NAME, 'I', NEW.id::text, to_jsonb(NEW));
    RETURN NEW;
END;
$fn$;

CREATE TRIGGER "Order_audit" AFTER INSERT OR UPDATE OR DELETE ON "Order"
    FOR EACH ROW EXECUTE FUNCTION audit.log_change();
CREATE TRIGGER "Payment_audit" AFTER INSERT OR UPDATE OR DELETE ON "Payment"
    FOR EACH ROW EXECUTE FUNCTION audit.log_change();
