-- Tally: 60 agencies as of April 2025 (the schema after 20250416100000). Deterministic; ids are
-- md5-derived UUIDs. The plans were inserted by migration 20250409093000.

INSERT INTO "public"."Organization" ("id", "name", "slug", "createdAt")
SELECT md5('org' || g)::uuid, 'Agentur ' || g, 'agentur-' || g, timestamptz '2025-03-06 09:00+00' + g * interval '8 hours'
FROM generate_series(1, 60) AS g;

INSERT INTO "public"."User" ("id", "email", "name", "createdAt")
SELECT md5('user' || g)::uuid, 'person' || g || '@agentur' || ((g - 1) % 60 + 1) || '.example',
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'Person ' || g END,
       timestamptz '2025-03-06 10:00+00' + g * interval '2 hours'
FROM generate_series(1, 400) AS g;

-- Every user works for one agency (users 1-120 are its admins); users 1-40 also see a second one.
INSERT INTO "public"."Membership" ("orgId", "userId", "role", "createdAt")
SELECT md5('org' || ((g - 1) % 60 + 1))::uuid, md5('user' || g)::uuid,
       (CASE WHEN g <= 120 THEN 'ADMIN' WHEN g % 7 = 0 THEN 'VIEWER' ELSE 'MEMBER' END)::"public"."MemberRole",
       timestamptz '2025-03-06 10:00+00' + g * interval '2 hours'
FROM generate_series(1, 400) AS g
UNION ALL
SELECT md5('org' || ((g + 10) % 60 + 1))::uuid, md5('user' || g)::uuid, 'VIEWER',
       timestamptz '2025-04-01 10:00+00' + g * interval '1 hour'
FROM generate_series(1, 40) AS g;

INSERT INTO "billing"."Subscription" ("id", "orgId", "planId", "status", "currentPeriodEnd", "createdAt")
SELECT md5('sub' || g)::uuid, md5('org' || g)::uuid,
       CASE WHEN g % 10 = 0 THEN 'legacy-2024' WHEN g % 3 = 0 THEN 'team' ELSE 'starter' END,
       (CASE WHEN g % 15 = 0 THEN 'CANCELED' WHEN g % 7 = 0 THEN 'PAST_DUE' ELSE 'ACTIVE' END)::"billing"."SubscriptionStatus",
       timestamptz '2025-05-01 00:00+00' + (g % 28) * interval '1 day',
       timestamptz '2025-03-06 09:00+00' + g * interval '8 hours'
FROM generate_series(1, 60) AS g;

INSERT INTO "public"."Client" ("id", "orgId", "name")
SELECT md5('client' || g)::uuid, md5('org' || ((g - 1) % 60 + 1))::uuid,
       (ARRAY['Bäckerei', 'Stadtwerke', 'Verlag', 'Brauerei', 'Zahnarztpraxis'])[g % 5 + 1] || ' ' || g
FROM generate_series(1, 180) AS g;

-- 300 projects, five per agency; every 6th is archived.
INSERT INTO "public"."Project" ("id", "orgId", "clientId", "name", "archived", "hourlyRateCents")
SELECT md5('project' || g)::uuid, md5('org' || ((g - 1) % 60 + 1))::uuid,
       CASE WHEN g % 4 = 0 THEN NULL ELSE md5('client' || ((g - 1) % 180 + 1))::uuid END,
       (ARRAY['Website relaunch', 'Newsletter', 'SEO', 'Onboarding app', 'Kampagne'])[g % 5 + 1] || ' ' || g,
       g % 6 = 0,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 8000 + g * 10 END
FROM generate_series(1, 300) AS g;

-- 20,000 time entries (March 2024 - January 2025) by members of the project's agency; the last
-- 60 timers are still running, every 250th was stopped the moment it started, half of them have
-- no "minutes" yet.
INSERT INTO "public"."TimeEntry" ("projectId", "userId", "startedAt", "endedAt", "minutes", "note", "billable")
SELECT md5('project' || ((g - 1) % 300 + 1))::uuid,
       md5('user' || ((g - 1) % 60 + 1 + 60 * (g % 6)))::uuid,
       timestamptz '2024-03-01 08:00+00' + g * interval '23 minutes',
       CASE WHEN g > 19940 THEN NULL
            WHEN g % 250 = 0 THEN timestamptz '2024-03-01 08:00+00' + g * interval '23 minutes'
            ELSE timestamptz '2024-03-01 08:00+00' + g * interval '23 minutes' + (15 + g % 120) * interval '1 minute' END,
       CASE WHEN g % 2 = 0 AND g <= 19940 AND g % 250 <> 0 THEN 15 + g % 120 END,
       CASE WHEN g % 9 = 0 THEN 'Abstimmung mit Kunde' END,
       g % 10 <> 0
FROM generate_series(1, 20000) AS g;

INSERT INTO "billing"."Invoice" ("id", "orgId", "number", "totalCents", "status", "issuedAt", "paidAt")
SELECT md5('invoice' || g)::uuid, md5('org' || ((g - 1) % 60 + 1))::uuid, 'INV-2024-' || lpad(g::text, 4, '0'),
       50000 + g * 137 % 400000,
       (CASE WHEN g % 20 = 0 THEN 'VOID' WHEN g % 5 = 0 THEN 'SENT' ELSE 'PAID' END)::"billing"."InvoiceStatus",
       timestamptz '2024-04-01 00:00+00' + g * interval '12 hours',
       CASE WHEN g % 5 <> 0 AND g % 20 <> 0 THEN timestamptz '2024-04-10 00:00+00' + g * interval '12 hours' END
FROM generate_series(1, 600) AS g;

INSERT INTO "billing"."InvoiceLine" ("id", "invoiceId", "description", "minutes", "amountCents")
SELECT md5('line' || g)::uuid, md5('invoice' || ((g - 1) % 600 + 1))::uuid, 'Leistungen ' || g, 60 + g % 600,
       (60 + g % 600) * 150
FROM generate_series(1, 1800) AS g;
