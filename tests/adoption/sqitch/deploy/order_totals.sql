-- Deploy shop:order_totals to pg (reworked: the time of the last order too)
-- requires: order_totals@v1.0, orders

BEGIN;

CREATE OR REPLACE VIEW shop.order_totals AS
SELECT c.id AS customer_id, c.email, count(o.id) AS orders, coalesce(sum(o.amount_cents), 0) AS total_cents,
       max(o.created_at) AS last_order_at
  FROM shop.customers c
  LEFT JOIN shop.orders o ON o.customer_id = c.id
 GROUP BY c.id, c.email;

COMMIT;
