-- 20_view_change: schema A
CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric, placed_at timestamptz);
CREATE VIEW recent_orders AS SELECT id, customer FROM orders WHERE placed_at > now() - interval '7 days';
CREATE VIEW obsolete_orders AS SELECT id FROM orders WHERE total IS NULL;
