-- The total of an order, as a function for the application and a view for reports.
-- pgmig:up
CREATE OR REPLACE FUNCTION order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(sum(quantity * unit_price), 0) FROM order_lines WHERE order_id = p_order_id
    $$;

CREATE OR REPLACE VIEW order_totals AS
SELECT o.id AS order_id, o.customer_id, o.status, order_total(o.id) AS total
  FROM orders o;

-- pgmig:down
DROP VIEW IF EXISTS order_totals;
DROP FUNCTION IF EXISTS order_total(bigint);
