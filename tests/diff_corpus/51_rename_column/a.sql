-- 51_rename_column: schema A
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE INDEX users_name ON users (name);
CREATE VIEW user_names AS SELECT id, name FROM users;
