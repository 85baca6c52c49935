-- 32_function_default: schema A
CREATE TABLE api_keys (id bigint PRIMARY KEY, owner text NOT NULL);
