-- Customer-facing order numbers (hand-written: a sequence that starts at 100000).
CREATE SEQUENCE "Order_number_seq" START WITH 100000;

-- AlterTable
ALTER TABLE "Order" ADD COLUMN "number" INTEGER NOT NULL DEFAULT nextval('"Order_number_seq"');

ALTER SEQUENCE "Order_number_seq" OWNED BY "Order"."number";

-- CreateIndex
CREATE UNIQUE INDEX "Order_number_key" ON "Order"("number");
