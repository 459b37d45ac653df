CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- "Did you mean" for roaster names typed in the search box.
CREATE OR REPLACE FUNCTION roaster_name_suggestions(query text)
RETURNS TABLE (id text, name text, distance integer)
LANGUAGE sql STABLE
AS $$
    SELECT r."id", r."name", levenshtein(lower(r."name"), lower(query)) AS distance
    FROM "Roaster" r
    WHERE soundex(r."name") = soundex(query)
    ORDER BY distance
    LIMIT 5;
$$;
