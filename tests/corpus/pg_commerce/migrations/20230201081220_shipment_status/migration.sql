-- CreateEnum
CREATE TYPE "ShipmentStatus" AS ENUM ('LABEL_CREATED', 'IN_TRANSIT', 'DELIVERED', 'RETURNED');

-- AlterTable
ALTER TABLE "Shipment" ADD COLUMN     "status" "ShipmentStatus" NOT NULL DEFAULT 'LABEL_CREATED';
