-- Key lookups moved into the API service; the SQL helper is unused.
DROP FUNCTION IF EXISTS public.api_key_digest(text);
