-- Deploy shop:orders_created_index to pg
-- requires: orders
-- No BEGIN/COMMIT: psql runs it in autocommit, as CREATE INDEX CONCURRENTLY needs.

CREATE INDEX CONCURRENTLY orders_created_at_idx ON shop.orders (created_at);
