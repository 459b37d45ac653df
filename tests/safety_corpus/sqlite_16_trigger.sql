-- A trigger keeps updatedAt current; its body has its own semicolons
CREATE TRIGGER "Post_updatedAt" AFTER UPDATE ON "Post"
BEGIN
    UPDATE "Post" SET "updatedAt" = CURRENT_TIMESTAMP WHERE "id" = NEW."id";
END;
CREATE INDEX "Post_updatedAt_idx" ON "Post"("updatedAt");
