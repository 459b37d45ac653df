-- The User audit trigger wrote a row for every login timestamp update (90 % of audit.log).
DROP TRIGGER IF EXISTS "User_audit" ON "User";
