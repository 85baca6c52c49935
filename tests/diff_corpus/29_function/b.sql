-- 29_function: schema B
CREATE FUNCTION add_tax(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT round(amount * 1.2, 2) $$;
CREATE FUNCTION slugify(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN regexp_replace(lower(t), '[^a-z0-9]+', '-', 'g');
END
$$;
