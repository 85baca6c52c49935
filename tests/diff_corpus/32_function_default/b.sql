-- 32_function_default: schema B
CREATE FUNCTION new_key() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT md5(random()::text) $$;
CREATE FUNCTION valid_key(k text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(k) = 32 $$;
CREATE TABLE api_keys (id bigint PRIMARY KEY, owner text NOT NULL, key text DEFAULT new_key() CHECK (valid_key(key)));
