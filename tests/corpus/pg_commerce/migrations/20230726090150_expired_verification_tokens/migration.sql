-- One-off: the token cleanup job was never scheduled.
DELETE FROM "VerificationToken" WHERE "expires" < '2023-07-01';
