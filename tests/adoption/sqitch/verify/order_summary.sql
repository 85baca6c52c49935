-- Verify shop:order_summary on pg (pgmig does not run verify scripts)

BEGIN;

SELECT 1;

ROLLBACK;
