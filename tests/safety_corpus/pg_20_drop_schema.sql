-- Remove the legacy reporting schema
DROP SCHEMA IF EXISTS "reporting" CASCADE;
