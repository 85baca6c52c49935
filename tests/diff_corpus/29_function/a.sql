-- 29_function: schema A
CREATE FUNCTION add_tax(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT amount * 1.19 $$;
CREATE FUNCTION old_helper() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
