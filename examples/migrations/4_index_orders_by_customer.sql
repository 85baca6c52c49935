-- Customer pages list a customer's orders, newest first.
-- pgmig:up
CREATE INDEX IF NOT EXISTS orders_customer_placed_idx ON orders (customer_id, placed_at DESC);

-- pgmig:down
DROP INDEX IF EXISTS orders_customer_placed_idx;
