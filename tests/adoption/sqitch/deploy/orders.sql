-- Deploy shop:orders to pg
-- requires: customers

BEGIN;

CREATE TABLE shop.orders (
    id BIGSERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    note TEXT DEFAULT 'none; yet',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);

COMMIT;
