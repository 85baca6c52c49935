-- 20_view_change: schema B
CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric, placed_at timestamptz);
CREATE VIEW recent_orders AS SELECT id, customer, total FROM orders WHERE placed_at > now() - interval '30 days';
