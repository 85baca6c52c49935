-- 47_schemas: schema A
CREATE TABLE users (id bigint PRIMARY KEY, name text);
