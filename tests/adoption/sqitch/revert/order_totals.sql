-- Revert shop:order_totals from pg: back to the v1.0 view

BEGIN;

DROP VIEW shop.order_totals;
CREATE VIEW shop.order_totals AS
SELECT c.id AS customer_id, c.email, count(o.id) AS orders, coalesce(sum(o.amount_cents), 0) AS total_cents
  FROM shop.customers c
  LEFT JOIN shop.orders o ON o.customer_id = c.id
 GROUP BY c.id, c.email;

COMMIT;
