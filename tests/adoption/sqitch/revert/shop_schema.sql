-- Revert shop:shop_schema from pg

BEGIN;

DROP SCHEMA shop;

COMMIT;
