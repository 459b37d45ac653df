-- Legacy subscribers moved to Starter.
UPDATE "billing"."Subscription" SET "planId" = 'starter' WHERE "planId" = 'legacy-2024';

DELETE FROM "billing"."Plan" WHERE "id" = 'legacy-2024';
