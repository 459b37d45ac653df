-- Cleanup written as a DO block: `;` and DELETE inside strings, comments and nested dollar quotes
DO $cleanup$
DECLARE
  removed integer;
  note text := 'DELETE FROM "User"; DROP TABLE "Order";';
BEGIN
  -- DROP TABLE "Session"; (a comment, not a statement)
  RAISE NOTICE 'starting; %', note;
  IF EXISTS (SELECT 1 FROM "Order" WHERE "total" < 0) THEN
    DELETE FROM "Order" WHERE "total" < 0;
    GET DIAGNOSTICS removed = ROW_COUNT;
  END IF;
  UPDATE "Order"
     SET "status" = 'CANCELLED'
   WHERE "status" = 'PENDING' AND "total" = 0;
  EXECUTE $q$DELETE FROM "Session" WHERE "userId" > 90$q$;
  EXECUTE format('DELETE FROM %I WHERE "id" = %s', 'Post', removed);
END
$cleanup$;
