-- 02_drop_table: schema A
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE legacy_audit (id bigint PRIMARY KEY, payload text);
