-- Ratings shown on product cards; refreshed nightly by the worker (REFRESH ... CONCURRENTLY
-- needs the unique index).
CREATE MATERIALIZED VIEW reporting.product_stats AS
SELECT p."id"                         AS product_id,
       count(r."id")                  AS review_count,
       round(avg(r."rating")::numeric, 2) AS avg_rating
FROM "Product" p
LEFT JOIN "Review" r ON r."productId" = p."id"
GROUP BY p."id";

CREATE UNIQUE INDEX product_stats_product_id_idx ON reporting.product_stats (product_id);

CREATE OR REPLACE FUNCTION reporting.refresh_product_stats() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY reporting.product_stats;
END;
$$;
