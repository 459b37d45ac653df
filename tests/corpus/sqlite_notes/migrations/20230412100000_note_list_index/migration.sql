-- CreateIndex
CREATE INDEX "Note_notebookId_updatedAt_idx" ON "Note"("notebookId", "updatedAt");
