CREATE SCHEMA IF NOT EXISTS reporting;

CREATE VIEW reporting.daily_sales AS
SELECT date_trunc('day', o."createdAt")::date AS day,
       count(*)                               AS orders,
       sum(o."totalCents")                    AS revenue_cents
FROM "Order" o
WHERE o."status" IN ('PAID', 'SHIPPED', 'DELIVERED')
GROUP BY 1;

-- The BI tool reads through this role; it exists only where the BI tool is set up.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting_reader') THEN
        GRANT USAGE ON SCHEMA reporting TO reporting_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO reporting_reader;
    END IF;
END
$$;
