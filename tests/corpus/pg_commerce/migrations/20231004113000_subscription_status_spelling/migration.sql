-- Same spelling fix as OrderStatus (20230705091244).
ALTER TYPE "SubscriptionStatus" RENAME VALUE 'CANCELED' TO 'CANCELLED';
