-- product_stats gets the published-only average; a materialized view cannot be altered.
DROP MATERIALIZED VIEW reporting.product_stats;

CREATE MATERIALIZED VIEW reporting.product_stats AS
SELECT p."id"                                          AS product_id,
       count(r."id") FILTER (WHERE r."status" = 'PUBLISHED') AS review_count,
       round(avg(r."rating") FILTER (WHERE r."status" = 'PUBLISHED')::numeric, 2) AS avg_rating,
       max(r."createdAt")                              AS last_review_at
FROM "Product" p
LEFT JOIN "Review" r ON r."productId" = p."id"
GROUP BY p."id";

CREATE UNIQUE INDEX product_stats_product_id_idx ON reporting.product_stats (product_id);
