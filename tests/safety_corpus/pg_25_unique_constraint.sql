-- Hand-written: a composite unique constraint on existing data
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_orgId_userId_key" UNIQUE ("orgId", "userId");
