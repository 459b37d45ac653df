-- CreateIndex
CREATE INDEX "Note_notebookId_pinned_idx" ON "Note"("notebookId", "pinned");
