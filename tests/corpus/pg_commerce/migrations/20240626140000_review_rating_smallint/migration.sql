/*
  Warnings:

  - You are about to alter the column `rating` on the `Review` table, which contains 7683 non-null values. The data in that column will be cast from `Integer` to `SmallInt`.

*/

-- product_stats reads "rating"; it has to go while the column type changes.
DROP MATERIALIZED VIEW IF EXISTS reporting.product_stats;

-- AlterTable
ALTER TABLE "Review" ALTER COLUMN "rating" SET DATA TYPE SMALLINT;

CREATE MATERIALIZED VIEW reporting.product_stats AS
SELECT p."id"                                          AS product_id,
       count(r."id") FILTER (WHERE r."status" = 'PUBLISHED') AS review_count,
       round(avg(r."rating") FILTER (WHERE r."status" = 'PUBLISHED')::numeric, 2) AS avg_rating,
       max(r."createdAt")                              AS last_review_at
FROM "Product" p
LEFT JOIN "Review" r ON r."productId" = p."id"
GROUP BY p."id";

CREATE UNIQUE INDEX product_stats_product_id_idx ON reporting.product_stats (product_id);
