CREATE EXTENSION IF NOT EXISTS "pg_trgm";

CREATE INDEX "Client_name_trgm_idx" ON "public"."Client" USING GIN ("name" gin_trgm_ops);
