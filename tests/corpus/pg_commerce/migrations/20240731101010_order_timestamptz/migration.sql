/*
  Warnings:

  - You are about to alter the column `createdAt` on the `Order` table, which contains 20000 non-null values. The data in that column will be cast from `Timestamp(3)` to `Timestamptz(3)`.

*/

-- reporting.daily_sales reads "createdAt"; recreate it around the type change.
DROP VIEW reporting.daily_sales;

-- AlterTable
ALTER TABLE "Order" ALTER COLUMN "createdAt" SET DATA TYPE TIMESTAMPTZ(3) USING "createdAt" AT TIME ZONE 'UTC';

CREATE VIEW reporting.daily_sales AS
SELECT date_trunc('day', o."createdAt" AT TIME ZONE 'Europe/Berlin')::date AS day,
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
WHERE o."status" IN ('PAID', 'SHIPPED', 'DELIVERED', 'REFUNDED', 'PARTIALLY_REFUNDED')
GROUP BY 1;

GRANT SELECT ON reporting.daily_sales TO PUBLIC;
