-- Ratings from the old shop were 0-10; the new UI shows 1-5 stars.
UPDATE "Review" SET "rating" = GREATEST(1, LEAST(5, ROUND("rating" / 2.0)))
WHERE "rating" > 5 OR "rating" < 1;
