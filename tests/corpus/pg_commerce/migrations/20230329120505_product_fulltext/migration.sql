-- Full-text search over name and description (hand-written expression index; Prisma cannot
-- declare it).
CREATE INDEX "Product_search_idx" ON "Product"
    USING GIN (to_tsvector('simple', coalesce("name", '') || ' ' || coalesce("description", '')));
