-- Not valid SQL at all on the second statement
CREATE TABLE "Log" ("id" INTEGER NOT NULL PRIMARY KEY, "msg" TEXT);
REMOVE EVERYTHING FROM "Log" NOW;
