-- New privacy policy (2024-05): consent must be given again by everyone.
UPDATE "User" SET "marketingOptIn" = false;
