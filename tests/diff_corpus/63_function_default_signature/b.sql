-- 63_function_default_signature: schema B
CREATE FUNCTION next_code(prefix text DEFAULT 'C') RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT prefix || floor(random() * 1000)::int $$;
CREATE TABLE coupons (id bigint PRIMARY KEY, code text DEFAULT next_code('K'));
