-- Revert shop:customers from pg

BEGIN;

DROP TABLE shop.customers;

COMMIT;
