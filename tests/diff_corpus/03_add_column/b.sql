-- 03_add_column: schema B
CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, description text,
                       in_stock boolean NOT NULL DEFAULT true, tags text[]);
