-- 06_column_not_null: schema A
CREATE TABLE customers (id bigint PRIMARY KEY, email text, phone text NOT NULL);
