-- Alphabetical order within each parent, as the menu showed it before.
UPDATE "Category" c
SET "position" = ranked.rn
FROM (
    SELECT "id", row_number() OVER (PARTITION BY "parentId" ORDER BY "name") AS rn
    FROM "Category"
) ranked
WHERE ranked."id" = c."id";
