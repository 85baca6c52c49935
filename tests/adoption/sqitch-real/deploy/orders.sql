-- Deploy shop:orders to pg
-- requires: users

BEGIN;

CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users
);

COMMIT;
