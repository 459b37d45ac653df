-- AlterEnum
ALTER TYPE "public"."MemberRole" ADD VALUE 'OWNER';
