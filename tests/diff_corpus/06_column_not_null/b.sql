-- 06_column_not_null: schema B
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, phone text);
