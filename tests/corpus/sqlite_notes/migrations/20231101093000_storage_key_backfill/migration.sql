UPDATE "Attachment" SET "storageKey" = 'att/' || "id" || '/' || "fileName" WHERE "storageKey" IS NULL;
