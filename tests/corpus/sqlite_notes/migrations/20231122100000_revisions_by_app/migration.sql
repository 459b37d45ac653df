-- Revisions are written by the sync engine now (with the device id).
DROP TRIGGER IF EXISTS "Note_revision";
