-- 02_drop_table: schema B
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
