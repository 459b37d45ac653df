-- German stemming for the full-text index (hand-written; see 20230329120505).
DROP INDEX IF EXISTS "Product_search_idx";

CREATE INDEX "Product_search_idx" ON "Product"
    USING GIN (to_tsvector('german', coalesce("name", '') || ' ' || coalesce("description", '')));
