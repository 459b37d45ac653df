-- Reset the cache table; it is rebuilt by the worker
TRUNCATE TABLE "SearchCache" RESTART IDENTITY;
