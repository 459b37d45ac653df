-- Security review SEC-14: session tokens are stored hashed. Existing sessions cannot be
-- converted, so everyone signs in again.
DELETE FROM "Session";

ALTER TABLE "Session" RENAME COLUMN "token" TO "tokenHash";
ALTER INDEX "Session_token_key" RENAME TO "Session_tokenHash_key";
