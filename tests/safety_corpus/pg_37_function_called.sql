-- The history's cleanup functions are called now: their bodies run in this migration
SELECT "purge_expired_sessions"();

-- a parameter in the WHERE: the body's rows cannot be counted before it runs
SELECT "purge_logs_older_than"(7);
