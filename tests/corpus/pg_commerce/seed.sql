-- Beanline production-like data, as of June 2023 (the schema after 20230607101200).
-- Deterministic: every value derives from generate_series, so the rows later migrations touch
-- are the same on every run. Written for the owner role (no superuser needed).

-- ids look like Prisma's cuid(): 'c' + 24 hex digits, derived from a kind and a number
CREATE FUNCTION pg_temp.cid(kind text, n integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'c' || substr(md5(kind || ':' || n), 1, 24) $$;

-- 12,000 users: 1-40 roasters, 41-45 admins, 46-70 support staff, the rest customers.
-- Users 1-4,000 came from the old shop (legacy password hashes); every 9th never verified.
INSERT INTO "User" ("id", "email", "emailVerifiedAt", "passwordHash", "legacyPasswordHash", "fullName",
                    "phone", "role", "locale", "timezone", "marketingOptIn", "createdAt", "updatedAt")
SELECT pg_temp.cid('user', g),
       'user' || g || '@example.com',
       CASE WHEN g % 9 = 0 THEN NULL ELSE timestamp '2022-03-01 08:00' + g * interval '47 minutes' + interval '1 hour' END,
       '$argon2id$v=19$m=65536,t=3,p=4$' || md5('salt' || g) || '$' || md5('hash' || g),
       CASE WHEN g <= 4000 THEN 'md5:' || md5('legacy' || g) END,
       CASE WHEN g % 7 = 0 THEN NULL
            ELSE (ARRAY['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Greta', 'Hannes', 'Ida', 'Jonas'])[g % 10 + 1]
                 || ' ' ||
                 (ARRAY['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann'])[g % 9 + 1]
       END,
       CASE WHEN g % 4 = 0 THEN '+49 151 ' || lpad((g * 7919 % 10000000)::text, 7, '0') END,
       (CASE WHEN g <= 40 THEN 'ROASTER' WHEN g <= 45 THEN 'ADMIN' WHEN g <= 70 THEN 'SUPPORT' ELSE 'CUSTOMER' END)::"Role",
       (ARRAY['de-DE', 'de-DE', 'de-AT', 'en-GB', 'nl-NL'])[g % 5 + 1],
       CASE WHEN g % 3 = 0 THEN 'Europe/Berlin' END,
       g % 3 = 0,
       timestamp '2022-03-01 08:00' + g * interval '47 minutes',
       timestamp '2022-03-01 08:00' + g * interval '47 minutes' + interval '2 days'
FROM generate_series(1, 12000) AS g;

-- 20,000 sessions; 5,001 belong to accounts deleted before Session had a foreign key.
INSERT INTO "Session" ("id", "userId", "token", "expiresAt", "userAgent", "ip", "createdAt")
SELECT pg_temp.cid('session', g),
       CASE WHEN g < 15000 THEN pg_temp.cid('user', g % 12000 + 1) ELSE pg_temp.cid('gone', g) END,
       md5('session' || g) || md5('token' || g),
       timestamp '2023-06-01' + (g % 60) * interval '1 day',
       (ARRAY['Mozilla/5.0 (iPhone)', 'Mozilla/5.0 (Macintosh)', 'Mozilla/5.0 (Windows NT 10.0)', 'Beanline-iOS/3.2'])[g % 4 + 1],
       '10.' || (g % 250) || '.' || (g * 7 % 250) || '.' || (g * 13 % 250),
       timestamp '2023-05-01' + g * interval '2 minutes'
FROM generate_series(1, 20000) AS g;

-- 60 roasters owned by users 1-40; every 6th is not verified.
INSERT INTO "Roaster" ("id", "name", "slug", "description", "logoUrl", "websiteUrl", "country", "payoutIban",
                       "commissionRate", "verifiedAt", "ownerId", "createdAt")
SELECT pg_temp.cid('roaster', g),
       (ARRAY['Kaffeerösterei', 'Bohnenwerk', 'Röstkontor', 'Coffee Collective', 'Kaffeekommune', 'Rösthaus'])[g % 6 + 1]
           || ' ' || (ARRAY['Nord', 'Süd', 'Elbe', 'Spree', 'Isar', 'Rhein', 'Main', 'Alster', 'Havel', 'Donau'])[g % 10 + 1],
       'roaster-' || g,
       'Small-batch roastery no. ' || g || '.',
       'https://cdn.beanline.example/logos/' || g || '.png',
       CASE WHEN g % 2 = 0 THEN 'https://roaster' || g || '.example' END,
       (ARRAY['DE', 'DE', 'DE', 'AT', 'NL'])[g % 5 + 1],
       'DE89' || lpad((g * 104729)::text, 18, '0'),
       0.1500 - (g % 3) * 0.0100,
       CASE WHEN g % 6 = 0 THEN NULL ELSE timestamp '2022-03-10' + g * interval '1 day' END,
       pg_temp.cid('user', (g - 1) % 40 + 1),
       timestamp '2022-03-05' + g * interval '1 day'
FROM generate_series(1, 60) AS g;

-- 30 categories: 6 top-level, 24 below them.
INSERT INTO "Category" ("id", "name", "slug", "parentId")
SELECT g,
       CASE WHEN g <= 6 THEN (ARRAY['Espresso', 'Filter', 'Decaf', 'Gear', 'Gifts', 'Tea'])[g]
            ELSE (ARRAY['Single Origin', 'Blends', 'Light Roast', 'Dark Roast'])[(g - 7) / 6 + 1] || ' ' || (g - 6) END,
       'category-' || g,
       CASE WHEN g <= 6 THEN NULL ELSE (g - 7) % 6 + 1 END
FROM generate_series(1, 30) AS g;
SELECT setval(pg_get_serial_sequence('"Category"', 'id'), 30);

-- 1,200 products, 20 per roaster.
INSERT INTO "Product" ("id", "roasterId", "name", "slug", "description", "priceCents", "status", "originCountry",
                       "process", "roastLevel", "createdAt", "updatedAt")
SELECT g,
       pg_temp.cid('roaster', (g - 1) % 60 + 1),
       (ARRAY['Ethiopia', 'Kenya', 'Colombia', 'Brazil', 'Guatemala', 'Rwanda', 'Peru', 'Honduras', 'Burundi',
              'Costa Rica', 'Sumatra', 'El Salvador'])[g % 12 + 1]
           || ' ' || (ARRAY['Yirgacheffe', 'Huila', 'Cerrado', 'Antigua', 'Kivu', 'Cajamarca', 'Santa Barbara',
                            'Kayanza', 'Tarrazú', 'Gayo', 'Espresso Blend', 'Haus-Mischung'])[(g / 12) % 12 + 1]
           || ' #' || g,
       'p-' || g,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'Notes of ' || (ARRAY['jasmine', 'dark chocolate', 'red berries', 'caramel',
           'citrus', 'hazelnut'])[g % 6 + 1] || ' and ' || (ARRAY['stone fruit', 'brown sugar', 'black tea', 'cocoa'])[g % 4 + 1] || '.' END,
       900 + (g * 37) % 2500,
       (CASE WHEN g % 29 = 0 THEN 'DRAFT' WHEN g % 17 = 0 THEN 'ARCHIVED' ELSE 'ACTIVE' END)::"ProductStatus",
       (ARRAY['ET', 'KE', 'CO', 'BR', 'GT', 'RW', 'PE', 'HN', 'BI', 'CR', 'ID', 'SV'])[g % 12 + 1],
       (ARRAY['washed', 'natural', 'honey', 'anaerobic'])[g % 4 + 1],
       g % 5 + 1,
       timestamp '2022-03-15' + g * interval '6 hours',
       timestamp '2022-03-15' + g * interval '6 hours' + interval '3 days'
FROM generate_series(1, 1200) AS g;
SELECT setval(pg_get_serial_sequence('"Product"', 'id'), 1200);

INSERT INTO "_CategoryToProduct" ("A", "B")
SELECT g % 24 + 7, g FROM generate_series(1, 1200) AS g
UNION ALL
SELECT g % 6 + 1, g FROM generate_series(2, 1200, 2) AS g;

-- 3,600 variants (250 g, 500 g, 1 kg of each product). Every 90th copied its SKU from the
-- variant three before it (the old vendor import).
INSERT INTO "ProductVariant" ("id", "productId", "sku", "grind", "weightGrams", "priceCents", "stock")
SELECT g,
       (g - 1) / 3 + 1,
       'BL-' || lpad((CASE WHEN g % 90 = 0 THEN (g - 1) / 3 ELSE (g - 1) / 3 + 1 END)::text, 5, '0')
           || '-' || (ARRAY[250, 500, 1000])[(g - 1) % 3 + 1],
       (ARRAY['WHOLE_BEAN', 'ESPRESSO', 'FILTER', 'FRENCH_PRESS'])[g % 4 + 1]::"GrindSize",
       (ARRAY[250, 500, 1000])[(g - 1) % 3 + 1],
       (900 + (((g - 1) / 3 + 1) * 37) % 2500) * (ARRAY[1, 2, 4])[(g - 1) % 3 + 1] - (g - 1) % 3 * 150,
       (g * 17) % 120
FROM generate_series(1, 3600) AS g;
SELECT setval(pg_get_serial_sequence('"ProductVariant"', 'id'), 3600);

-- 14,000 addresses: one default per user, a second address for users 1-2,000; the checkout
-- bug made 150 of those second addresses default too.
INSERT INTO "Address" ("id", "userId", "line1", "line2", "city", "postalCode", "country", "latitude", "longitude", "isDefault")
SELECT pg_temp.cid('addr', g),
       pg_temp.cid('user', CASE WHEN g <= 12000 THEN g ELSE g - 12000 END),
       (ARRAY['Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Lindenallee', 'Schillerstraße', 'Kirchplatz'])[g % 6 + 1] || ' ' || (g % 180 + 1),
       CASE WHEN g % 11 = 0 THEN 'Hinterhaus' END,
       (ARRAY['Berlin', 'Hamburg', 'München', 'Köln', 'Leipzig', 'Wien', 'Amsterdam', 'Dresden'])[g % 8 + 1],
       lpad(((g * 7877) % 99999)::text, 5, '0'),
       (ARRAY['DE', 'DE', 'DE', 'DE', 'DE', 'AT', 'NL', 'DE'])[g % 8 + 1],
       CASE WHEN g % 3 = 0 THEN 47.0 + (g % 700) / 100.0 END,
       CASE WHEN g % 3 = 0 THEN 6.0 + (g % 900) / 100.0 END,
       g <= 12000 OR g - 12000 <= 150
FROM generate_series(1, 14000) AS g;

INSERT INTO "Coupon" ("id", "code", "percentOff", "amountOffCents", "validUntil", "maxRedemptions", "createdAt")
SELECT pg_temp.cid('coupon', g),
       'BEAN' || lpad(g::text, 3, '0'),
       CASE WHEN g % 2 = 0 THEN 10 + g % 3 * 5 END,
       CASE WHEN g % 2 = 1 THEN 500 END,
       timestamp '2023-12-31',
       CASE WHEN g % 4 = 0 THEN 100 END,
       timestamp '2022-04-01' + g * interval '7 days'
FROM generate_series(1, 40) AS g;

-- 20,000 orders (March 2022 - June 2023) by customers 71-12,000. Orders 1-6,000 predate
-- multi-currency support (currency NULL).
INSERT INTO "Order" ("id", "userId", "status", "totalCents", "customerNote", "internalNote", "currency", "couponId",
                     "shippingAddressId", "createdAt", "updatedAt")
SELECT g,
       pg_temp.cid('user', (g * 7) % 11930 + 71),
       (CASE WHEN g % 50 = 0 THEN 'CANCELED' WHEN g % 40 = 1 THEN 'REFUNDED' WHEN g % 20 = 2 THEN 'PENDING'
             WHEN g % 20 = 3 THEN 'PAID' WHEN g % 10 = 4 THEN 'SHIPPED' ELSE 'DELIVERED' END)::"OrderStatus",
       1500 + (g * 53) % 9000,
       CASE WHEN g % 13 = 0 THEN 'Bitte beim Nachbarn abgeben.' END,
       CASE WHEN g % 97 = 0 THEN 'Customer called about delivery.' END,
       CASE WHEN g > 6000 THEN 'EUR' END,
       CASE WHEN g % 25 = 0 THEN pg_temp.cid('coupon', g % 40 + 1) END,
       pg_temp.cid('addr', (g * 7) % 11930 + 71),
       timestamp '2022-03-05 09:00' + g * interval '32 minutes',
       timestamp '2022-03-05 09:00' + g * interval '32 minutes' + interval '1 day'
FROM generate_series(1, 20000) AS g;
SELECT setval(pg_get_serial_sequence('"Order"', 'id'), 20000);

-- 45,000 order items: two per order, a third for orders 1-5,000.
INSERT INTO "OrderItem" ("id", "orderId", "variantId", "quantity", "unitPriceCents")
SELECT g, (g - 1) % 20000 + 1, (g * 13) % 3600 + 1, g % 3 + 1, 900 + (g * 41) % 3000
FROM generate_series(1, 45000) AS g;
SELECT setval(pg_get_serial_sequence('"OrderItem"', 'id'), 45000);

-- 19,000 payments; the payment service wrote lowercase statuses.
INSERT INTO "Payment" ("id", "orderId", "provider", "amountCents", "status", "providerRef", "createdAt")
SELECT pg_temp.cid('pay', g),
       g,
       (ARRAY['CARD', 'PAYPAL', 'SEPA', 'INVOICE'])[g % 4 + 1]::"PaymentProvider",
       1500 + (g * 53) % 9000,
       CASE WHEN g % 30 = 0 THEN 'failed' WHEN g % 45 = 1 THEN 'pending' ELSE 'succeeded' END,
       'pi_' || md5('pay' || g),
       timestamp '2022-03-05 09:05' + g * interval '32 minutes'
FROM generate_series(1, 19000) AS g;

INSERT INTO "Refund" ("id", "paymentId", "amountCents", "reason", "createdAt")
SELECT pg_temp.cid('refund', g), pg_temp.cid('pay', g * 20), 500 + (g * 31) % 2000,
       (ARRAY['damaged', 'wrong item', 'late delivery', NULL])[g % 4 + 1],
       timestamp '2022-03-10' + g * 20 * interval '32 minutes'
FROM generate_series(1, 900) AS g;

INSERT INTO "Shipment" ("id", "orderId", "carrier", "trackingNumber", "status", "shippedAt", "deliveredAt")
SELECT pg_temp.cid('ship', g), g,
       (ARRAY['DHL', 'DPD', 'UPS', 'GLS'])[g % 4 + 1],
       'JJD' || lpad((g * 7919)::text, 12, '0'),
       (CASE WHEN g % 10 = 0 THEN 'IN_TRANSIT' WHEN g % 97 = 0 THEN 'RETURNED' ELSE 'DELIVERED' END)::"ShipmentStatus",
       timestamp '2022-03-06 09:00' + g * interval '32 minutes',
       CASE WHEN g % 10 <> 0 THEN timestamp '2022-03-08 15:00' + g * interval '32 minutes' END
FROM generate_series(1, 15000) AS g;

-- 8,000 reviews; 317 imported for products that never made it to the new shop.
INSERT INTO "Review" ("id", "productId", "userId", "rating", "body", "createdAt")
SELECT pg_temp.cid('review', g),
       CASE WHEN g <= 7683 THEN (g * 7) % 1200 + 1 ELSE 5000 + g END,
       pg_temp.cid('user', g % 11930 + 71),
       g % 5 + 1,
       CASE WHEN g % 3 = 0 THEN 'Lecker! ' || (ARRAY['Sehr fruchtig.', 'Schöne Crema.', 'Etwas zu dunkel für mich.'])[g % 3 + 1] END,
       timestamp '2022-04-01' + g * interval '55 minutes'
FROM generate_series(1, 8000) AS g;

-- 9,000 wishlist entries: users 71-2,870 with three products each, then 600 double taps.
INSERT INTO "WishlistItem" ("id", "userId", "productId", "createdAt")
SELECT pg_temp.cid('wish', g),
       pg_temp.cid('user', 71 + ((CASE WHEN g <= 8400 THEN g ELSE g - 8400 END) - 1) / 3),
       ((CASE WHEN g <= 8400 THEN g ELSE g - 8400 END) * 11) % 1200 + 1,
       timestamp '2022-05-20' + g * interval '40 minutes'
FROM generate_series(1, 9000) AS g;

-- 25,000 notifications (June 2022 - March 2023); 60 % were read two hours later.
INSERT INTO "Notification" ("id", "userId", "type", "payload", "readAt", "createdAt")
SELECT pg_temp.cid('notif', g),
       pg_temp.cid('user', g % 11930 + 71),
       (ARRAY['order_shipped', 'weekly_digest_v1', 'order_delivered', 'price_drop_v1', 'order_shipped',
              'review_reminder', 'order_delivered', 'subscription_due', 'weekly_digest_v1', 'back_in_stock'])[g % 10 + 1],
       jsonb_build_object('orderId', g % 20000 + 1, 'v', 1),
       CASE WHEN g % 5 < 3 THEN timestamp '2022-06-01' + g * interval '17 minutes' + interval '2 hours' END,
       timestamp '2022-06-01' + g * interval '17 minutes'
FROM generate_series(1, 25000) AS g;

INSERT INTO "Cart" ("id", "userId", "createdAt", "updatedAt")
SELECT pg_temp.cid('cart', g), pg_temp.cid('user', g + 100),
       timestamp '2023-05-01' + g * interval '13 minutes', timestamp '2023-05-01' + g * interval '13 minutes' + interval '1 hour'
FROM generate_series(1, 3000) AS g;

INSERT INTO "CartItem" ("id", "cartId", "variantId", "quantity")
SELECT pg_temp.cid('cartitem', g),
       pg_temp.cid('cart', (g - 1) % 3000 + 1),
       CASE WHEN g <= 3000 THEN (g * 7) % 3600 + 1 ELSE (g * 7 + 1) % 3600 + 1 END,
       g % 2 + 1
FROM generate_series(1, 6000) AS g;

-- Reservations of abandoned carts; all expired in May 2023.
INSERT INTO "InventoryReservation" ("id", "variantId", "cartId", "quantity", "expiresAt", "createdAt")
SELECT pg_temp.cid('reservation', g), (g * 7) % 3600 + 1, pg_temp.cid('cart', (g - 1) % 3000 + 1), 1,
       timestamp '2023-05-01' + g * interval '10 minutes', timestamp '2023-05-01' + g * interval '10 minutes' - interval '15 minutes'
FROM generate_series(1, 2000) AS g;

-- 3,000 email verification tokens; 2,400 expired before the cleanup in July 2023.
INSERT INTO "VerificationToken" ("identifier", "token", "expires")
SELECT 'user' || g || '@example.com', md5('verification' || g),
       CASE WHEN g <= 2400 THEN timestamp '2022-10-01' + g * interval '1 hour'
            ELSE timestamp '2023-07-15' + g * interval '1 minute' END
FROM generate_series(1, 3000) AS g;

INSERT INTO "Subscription" ("id", "userId", "variantId", "interval", "status", "nextDeliveryAt", "createdAt", "updatedAt")
SELECT pg_temp.cid('subscription', g), pg_temp.cid('user', (g * 3) % 11930 + 71), (g * 11) % 3600 + 1,
       (ARRAY['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'MONTHLY'])[g % 4 + 1]::"SubscriptionInterval",
       (CASE WHEN g % 8 = 0 THEN 'CANCELED' WHEN g % 8 = 1 THEN 'PAUSED' ELSE 'ACTIVE' END)::"SubscriptionStatus",
       timestamp '2023-06-10' + (g % 30) * interval '1 day',
       timestamp '2022-08-15' + g * interval '3 hours',
       timestamp '2022-08-15' + g * interval '3 hours' + interval '1 day'
FROM generate_series(1, 2500) AS g;

-- API keys are stored as SHA-256 digests (pgcrypto's digest() in public).
INSERT INTO "ApiKey" ("id", "roasterId", "name", "keyHash", "lastUsedAt", "revokedAt", "createdAt")
SELECT pg_temp.cid('apikey', g), pg_temp.cid('roaster', (g - 1) % 60 + 1),
       (ARRAY['Shop sync', 'ERP', 'Label printer'])[g % 3 + 1],
       encode(digest('bl_live_' || md5('key' || g), 'sha256'), 'hex'),
       timestamp '2023-06-01' + g * interval '1 hour',
       CASE WHEN g % 10 = 0 THEN timestamp '2023-03-01' END,
       timestamp '2022-11-05' + g * interval '1 day'
FROM generate_series(1, 120) AS g;

INSERT INTO "GiftCard" ("id", "code", "initialCents", "balanceCents", "purchasedById", "expiresAt", "createdAt")
SELECT pg_temp.cid('giftcard', g), 'GIFT-' || upper(substr(md5('gift' || g), 1, 10)), 2500 * (g % 4 + 1),
       CASE WHEN g % 3 = 0 THEN 0 ELSE 2500 * (g % 4 + 1) - (g * 7) % 2000 END,
       CASE WHEN g % 5 <> 0 THEN pg_temp.cid('user', g * 11 % 11930 + 71) END,
       timestamp '2025-12-31', timestamp '2022-12-01' + g * interval '9 hours'
FROM generate_series(1, 500) AS g;

INSERT INTO "GiftCardTransaction" ("giftCardId", "orderId", "deltaCents", "createdAt")
SELECT pg_temp.cid('giftcard', (g - 1) % 500 + 1), CASE WHEN g % 2 = 0 THEN g * 13 % 20000 + 1 END,
       -((g * 7) % 2000), timestamp '2022-12-20' + g * interval '4 hours'
FROM generate_series(1, 1200) AS g;

INSERT INTO "Tag" ("id", "name")
SELECT g, (ARRAY['bio', 'fair-trade', 'direct-trade', 'decaf', 'espresso', 'filter', 'omni', 'limited', 'microlot',
                 'women-producers', 'rainforest', 'new', 'bestseller', 'gift', 'subscription', 'light', 'medium',
                 'dark', 'fruity', 'chocolatey', 'nutty', 'floral', 'spicy', 'winter', 'summer'])[g]
FROM generate_series(1, 25) AS g;
SELECT setval(pg_get_serial_sequence('"Tag"', 'id'), 25);

INSERT INTO "ProductTag" ("productId", "tagId")
SELECT (g - 1) % 1200 + 1, (g - 1) / 1200 + 1 + (g % 7) * 3
FROM generate_series(1, 3000) AS g;

INSERT INTO "SupportTicket" ("id", "userId", "orderId", "assignedToId", "subject", "status", "createdAt", "updatedAt")
SELECT pg_temp.cid('ticket', g), pg_temp.cid('user', (g * 7) % 11930 + 71), g * 10, pg_temp.cid('user', 46 + g % 25),
       (ARRAY['Where is my order?', 'Wrong grind', 'Refund request', 'Change subscription'])[g % 4 + 1],
       (CASE WHEN g % 5 = 0 THEN 'OPEN' WHEN g % 5 = 1 THEN 'PENDING' WHEN g % 5 = 2 THEN 'RESOLVED' ELSE 'CLOSED' END)::"TicketStatus",
       timestamp '2023-02-25' + g * interval '2 hours', timestamp '2023-02-25' + g * interval '2 hours' + interval '1 day'
FROM generate_series(1, 1500) AS g;

INSERT INTO "TicketMessage" ("id", "ticketId", "authorId", "body", "createdAt")
SELECT pg_temp.cid('ticketmsg', g), pg_temp.cid('ticket', (g - 1) % 1500 + 1),
       CASE WHEN g <= 1500 THEN pg_temp.cid('user', (g * 7) % 11930 + 71) ELSE pg_temp.cid('user', 46 + g % 25) END,
       'Message ' || g, timestamp '2023-02-25' + g * interval '45 minutes'
FROM generate_series(1, 4000) AS g;

INSERT INTO "LoyaltyLedger" ("userId", "delta", "reason", "orderId", "createdAt")
SELECT pg_temp.cid('user', (g * 7) % 11930 + 71), 10 + g % 190, 'order', g % 20000 + 1,
       timestamp '2022-04-01' + g * interval '50 minutes'
FROM generate_series(1, 12000) AS g;

INSERT INTO "WebhookEndpoint" ("id", "roasterId", "url", "secret", "events", "active", "createdAt")
SELECT pg_temp.cid('webhook', g), pg_temp.cid('roaster', (g - 1) % 60 + 1),
       'https://hooks.roaster' || g || '.example/beanline', md5('whsec' || g),
       ARRAY['order.paid', 'order.shipped'], g % 9 <> 0, timestamp '2023-04-20' + g * interval '6 hours'
FROM generate_series(1, 80) AS g;

-- 8,000 deliveries (April - June 2023); every 10th never got through.
INSERT INTO "WebhookDelivery" ("endpointId", "event", "payload", "statusCode", "attempt", "deliveredAt", "createdAt")
SELECT pg_temp.cid('webhook', (g - 1) % 80 + 1), (ARRAY['order.paid', 'order.shipped'])[g % 2 + 1],
       jsonb_build_object('orderId', g % 20000 + 1),
       CASE WHEN g % 10 = 0 THEN 500 ELSE 200 END, CASE WHEN g % 10 = 0 THEN 5 ELSE 1 END,
       CASE WHEN g % 10 <> 0 THEN timestamp '2023-04-20' + g * interval '8 minutes' + interval '1 second' END,
       timestamp '2023-04-20' + g * interval '8 minutes'
FROM generate_series(1, 8000) AS g;
