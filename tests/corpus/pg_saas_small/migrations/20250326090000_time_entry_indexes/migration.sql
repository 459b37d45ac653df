-- CreateIndex
CREATE INDEX "TimeEntry_projectId_startedAt_idx" ON "public"."TimeEntry"("projectId", "startedAt");

-- CreateIndex
CREATE INDEX "TimeEntry_userId_startedAt_idx" ON "public"."TimeEntry"("userId", "startedAt");
