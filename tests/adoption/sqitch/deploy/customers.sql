-- Deploy shop:customers to pg
-- requires: shop_schema

BEGIN;

CREATE TABLE shop.customers (
    id SERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE INDEX customers_lower_name_idx ON shop.customers (lower(name));

COMMIT;
