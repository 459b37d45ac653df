-- Hand-written indexes the schema does not declare (search and the reminder scheduler).
CREATE INDEX "Note_title_nocase_idx" ON "Note"("title" COLLATE NOCASE);
CREATE INDEX "Reminder_pending_idx" ON "Reminder"("remindAt") WHERE "doneAt" IS NULL;
CREATE INDEX "Attachment_mime_idx" ON "Attachment"("mime");
