-- Finance wants net revenue (minus refunds) next to gross. CREATE OR REPLACE VIEW cannot
-- reorder columns, so the view is dropped and created again.
DROP VIEW IF EXISTS reporting.daily_sales;

CREATE VIEW reporting.daily_sales AS
SELECT date_trunc('day', o."createdAt")::date                 AS day,
       count(*)                                               AS orders,
       sum(o."totalCents")                                    AS gross_cents,
       sum(o."totalCents") - coalesce(sum(rf.refunded), 0)    AS net_cents
FROM "Order" o
LEFT JOIN (
    SELECT p."orderId", sum(r."amountCents") AS refunded
    FROM "Refund" r
    JOIN "Payment" p ON p."id" = r."paymentId"
    GROUP BY p."orderId"
) rf ON rf."orderId" = o."id"
WHERE o."status" IN ('PAID', 'SHIPPED', 'DELIVERED', 'REFUNDED')
GROUP BY 1;

GRANT SELECT ON reporting.daily_sales TO PUBLIC;
