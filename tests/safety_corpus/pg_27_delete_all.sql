-- Drop all stale login attempts
DELETE FROM "LoginAttempt";
