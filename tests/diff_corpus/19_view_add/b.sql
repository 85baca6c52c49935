-- 19_view_add: schema B
CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric, placed_at timestamptz);
CREATE VIEW big_orders AS SELECT id, customer, total FROM orders WHERE total > 1000;
CREATE VIEW order_days (day, n) AS SELECT date_trunc('day', placed_at), count(*) FROM orders GROUP BY 1;
