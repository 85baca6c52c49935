-- Revert shop:order_totals from pg (as of v1.0)

BEGIN;

DROP VIEW shop.order_totals;

COMMIT;
