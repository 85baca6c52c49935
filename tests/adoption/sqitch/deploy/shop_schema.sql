-- Deploy shop:shop_schema to pg

BEGIN;

CREATE SCHEMA shop;

COMMIT;
