-- CreateIndex
CREATE INDEX "User_deletedAt_idx" ON "User"("deletedAt");
