-- "Untitled" notebooks the onboarding created and nobody used.
DELETE FROM "Notebook"
WHERE "title" = 'Untitled'
  AND NOT EXISTS (SELECT 1 FROM "Note" n WHERE n."notebookId" = "Notebook"."id");
