-- Deploy shop:order_summary to pg
-- requires: orders

BEGIN;

-- A function whose body holds semicolons, a nested dollar quote and a string with ';' in it.
CREATE FUNCTION shop.order_summary(p_customer INTEGER) RETURNS TEXT
LANGUAGE plpgsql STABLE AS $body$
DECLARE
    n BIGINT;
    total BIGINT;
BEGIN
    SELECT count(*), coalesce(sum(amount_cents), 0) INTO n, total FROM shop.orders WHERE customer_id = p_customer;
    IF n = 0 THEN
        RETURN 'no orders; none at all';
    END IF;
    RETURN format($fmt$%s orders; %s cents$fmt$, n, total);
END;
$body$;

COMMIT;
