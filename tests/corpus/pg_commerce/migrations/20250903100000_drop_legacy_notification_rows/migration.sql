-- Notification types removed from the app in 2024 (ticket NOTIF-88).
WITH legacy AS (
    SELECT n."id"
    FROM "public"."Notification" n
    WHERE n."type" IN ('price_drop_v1', 'weekly_digest_v1')
)
DELETE FROM "public"."Notification"
WHERE "id" IN (SELECT "id" FROM legacy);
