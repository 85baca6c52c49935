-- 01_add_table: schema B
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE sessions (id bigint PRIMARY KEY, token text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
