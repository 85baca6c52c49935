-- 63_function_default_signature: schema A
CREATE FUNCTION next_code() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT 'C' || floor(random() * 1000)::int $$;
CREATE TABLE coupons (id bigint PRIMARY KEY, code text DEFAULT next_code());
