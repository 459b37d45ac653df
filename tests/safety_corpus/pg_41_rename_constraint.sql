-- Prisma's migration for a model renamed with @@map: table, constraint and index follow
ALTER TABLE "Post" RENAME TO "Article";

-- RenamePrimaryKey
ALTER TABLE "Article" RENAME CONSTRAINT "Post_pkey" TO "Article_pkey";

-- RenameIndex
ALTER INDEX "Post_title_trgm_idx" RENAME TO "Article_title_trgm_idx";
