-- A function whose body holds semicolons, a nested dollar quote and a string with ';' in it.
CREATE FUNCTION order_summary(p_customer integer) RETURNS text
LANGUAGE plpgsql STABLE AS $body$
DECLARE
    n bigint;
    total bigint;
BEGIN
    SELECT count(*), coalesce(sum(amount_cents), 0) INTO n, total FROM orders WHERE customer_id = p_customer;
    IF n = 0 THEN
        RETURN 'no orders; none at all';
    END IF;
    RETURN format($fmt$%s orders; %s cents$fmt$, n, total);
END;
$body$;
