-- 51_rename_column: schema B
CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text);
CREATE INDEX users_name ON users (full_name);
CREATE VIEW user_names AS SELECT id, full_name AS name FROM users;
