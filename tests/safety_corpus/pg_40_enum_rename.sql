-- AlterEnum: a type renamed, a value renamed, a value added
ALTER TYPE "Role" RENAME TO "UserRole";

ALTER TYPE "UserRole" RENAME VALUE 'MODERATOR' TO 'EDITOR';

ALTER TYPE "UserRole" ADD VALUE 'GUEST';
