-- Remove test accounts only; statement text contains ';' inside a string literal
DELETE FROM "User" WHERE "email" LIKE '%@example.test' AND "name" <> 'keep;me';
UPDATE "User" SET "role" = 'ADMIN' WHERE "id" = 1;
