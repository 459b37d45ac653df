-- Sync protocol v2: every device starts over from cursor 0.
DELETE FROM "SyncCursor";
