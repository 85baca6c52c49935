-- Revert shop:orders from pg

BEGIN;

DROP TABLE shop.orders;

COMMIT;
