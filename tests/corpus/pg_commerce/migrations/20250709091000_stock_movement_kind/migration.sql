-- CreateEnum
CREATE TYPE "public"."StockMovementKind" AS ENUM ('RECEIPT', 'SALE', 'RETURN', 'ADJUSTMENT');

-- AlterTable
ALTER TABLE "public"."StockMovement" ADD COLUMN     "kind" "public"."StockMovementKind" NOT NULL DEFAULT 'ADJUSTMENT';
