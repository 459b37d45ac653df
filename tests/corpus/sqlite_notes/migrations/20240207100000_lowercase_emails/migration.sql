-- Sign-in compares lowercase emails since 4.2; existing ones are normalised.
UPDATE "User" SET "email" = lower("email") WHERE "email" <> lower("email");
