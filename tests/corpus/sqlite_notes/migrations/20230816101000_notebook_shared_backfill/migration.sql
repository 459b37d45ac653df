UPDATE "Notebook"
SET "shared" = true
WHERE "id" IN (SELECT n."notebookId" FROM "Note" n JOIN "Share" s ON s."noteId" = n."id");
