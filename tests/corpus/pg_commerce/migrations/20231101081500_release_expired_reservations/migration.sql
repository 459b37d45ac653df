-- Reservations are released by the worker now; drop the ones that already expired.
DELETE FROM "InventoryReservation" WHERE "expiresAt" < now();
