-- 30_function_signature: schema A
CREATE FUNCTION area(w int, h int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT w * h $$;
CREATE FUNCTION label(id int) RETURNS text LANGUAGE sql AS $$ SELECT 'item ' || id $$;
