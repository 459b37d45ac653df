INSERT INTO "billing"."Plan" ("id", "name", "priceCents", "interval") VALUES
    ('legacy-2024', 'Legacy (2024)', 900, 'MONTH'),
    ('starter', 'Starter', 1200, 'MONTH'),
    ('team', 'Team', 2900, 'MONTH'),
    ('team-yearly', 'Team (yearly)', 29000, 'YEAR');
