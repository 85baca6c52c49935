-- 04_drop_column: schema B
CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL);
