-- Deploy shop:order_totals to pg (as of v1.0)
-- requires: orders

BEGIN;

CREATE VIEW shop.order_totals AS
SELECT c.id AS customer_id, c.email, count(o.id) AS orders, coalesce(sum(o.amount_cents), 0) AS total_cents
  FROM shop.customers c
  LEFT JOIN shop.orders o ON o.customer_id = c.id
 GROUP BY c.id, c.email;

COMMIT;
