/*
  Warnings:

  - You are about to drop the `RateLimitBucket` table. If the table is not empty, all the data it contains will be lost.

*/

-- Rate limiting moved to Redis.
-- DropTable
DROP TABLE "RateLimitBucket";
