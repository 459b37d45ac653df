-- Replaced by the trigram search (Product_name_trgm_idx); fuzzystrmatch is no longer used.
DROP FUNCTION IF EXISTS roaster_name_suggestions(text);

DROP EXTENSION IF EXISTS fuzzystrmatch;
