-- AlterTable: rename the model's table; keep data
ALTER TABLE "Post" RENAME TO "Article";

-- RenameIndex
ALTER INDEX "Post_pkey" RENAME TO "Article_pkey";

-- RenameForeignKey
ALTER TABLE "Article" RENAME CONSTRAINT "Post_authorId_fkey" TO "Article_authorId_fkey";
