-- 30_function_signature: schema B
CREATE FUNCTION area(w numeric, h numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT w * h $$;
CREATE FUNCTION label(id int) RETURNS text LANGUAGE sql AS $$ SELECT 'item ' || id $$;
CREATE FUNCTION label(id int, prefix text) RETURNS text LANGUAGE sql AS $$ SELECT prefix || id $$;
