-- Rename the table behind a model (@@map change)
ALTER TABLE "Post" RENAME TO "Article";
