-- Billable minutes per organization and month, read by the invoicing job.
CREATE VIEW "billing"."monthly_usage" AS
SELECT p."orgId"                                AS org_id,
       date_trunc('month', e."startedAt")       AS month,
       sum(e."minutes") FILTER (WHERE e."billable") AS billable_minutes
FROM "public"."TimeEntry" e
JOIN "public"."Project" p ON p."id" = e."projectId"
GROUP BY 1, 2;
