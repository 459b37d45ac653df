-- CreateIndex
CREATE INDEX "Attachment_noteId_idx" ON "Attachment"("noteId");
