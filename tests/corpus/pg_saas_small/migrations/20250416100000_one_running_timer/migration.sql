-- At most one running timer per user (hand-written partial unique index).
CREATE UNIQUE INDEX "TimeEntry_one_running_per_user" ON "public"."TimeEntry" ("userId") WHERE "endedAt" IS NULL;
