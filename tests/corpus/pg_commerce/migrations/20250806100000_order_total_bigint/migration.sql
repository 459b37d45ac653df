/*
  Warnings:

  - You are about to alter the column `totalCents` on the `Order` table, which contains 20000 non-null values. The data in that column will be cast from `Integer` to `BigInt`.

*/

-- reporting.daily_sales sums "totalCents"; recreate it around the type change.
DROP VIEW "reporting"."daily_sales";

-- AlterTable
ALTER TABLE "public"."Order" ALTER COLUMN "totalCents" SET DATA TYPE BIGINT;

CREATE VIEW "reporting"."daily_sales" AS
SELECT date_trunc('day', o."createdAt" AT TIME ZONE 'Europe/Berlin')::date AS day,
       count(*)                                               AS orders,
       sum(o."totalCents")                                    AS gross_cents,
       sum(o."totalCents") - coalesce(sum(rf.refunded), 0)    AS net_cents
FROM "public"."Order" o
LEFT JOIN (
    SELECT p."orderId", sum(r."amountCents") AS refunded
    FROM "public"."Refund" r
    JOIN "public"."Payment" p ON p."id" = r."paymentId"
    GROUP BY p."orderId"
) rf ON rf."orderId" = o."id"
WHERE o."status" IN ('PAID', 'SHIPPED', 'DELIVERED', 'REFUNDED', 'PARTIALLY_REFUNDED')
GROUP BY 1;

GRANT SELECT ON "reporting"."daily_sales" TO PUBLIC;
