-- Keep the 20 newest revisions of each note.
DELETE FROM "NoteRevision"
WHERE "id" IN (
    SELECT "id" FROM (
        SELECT "id", row_number() OVER (PARTITION BY "noteId" ORDER BY "createdAt" DESC, "id" DESC) AS rn
        FROM "NoteRevision"
    )
    WHERE rn > 20
);
