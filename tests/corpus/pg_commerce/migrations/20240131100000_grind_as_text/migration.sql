-- Hand-edited: vendors of equipment have no grind; Prisma's version dropped and re-added the
-- column. Convert in place and drop the enum.
ALTER TABLE "ProductVariant" ALTER COLUMN "grind" DROP DEFAULT;
ALTER TABLE "ProductVariant" ALTER COLUMN "grind" SET DATA TYPE TEXT USING "grind"::text;
ALTER TABLE "ProductVariant" ALTER COLUMN "grind" SET DEFAULT 'WHOLE_BEAN';

-- DropEnum
DROP TYPE "GrindSize";
