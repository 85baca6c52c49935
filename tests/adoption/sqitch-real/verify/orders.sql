-- Verify shop:orders on pg

BEGIN;

SELECT id, user_id FROM orders WHERE false;

ROLLBACK;
