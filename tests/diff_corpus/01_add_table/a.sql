-- 01_add_table: schema A
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
