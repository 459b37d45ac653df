-- Pinning moved to the notebook level; existing pins are cleared.
UPDATE "Note" SET "pinned" = false;
