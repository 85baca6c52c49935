-- 03_add_column: schema A
CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL);
