-- Revert shop:order_summary from pg

BEGIN;

DROP FUNCTION shop.order_summary(INTEGER);

COMMIT;
