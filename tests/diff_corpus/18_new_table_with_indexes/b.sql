-- 18_new_table_with_indexes: schema B
CREATE TABLE base (id int PRIMARY KEY);
CREATE TABLE logins (id bigint PRIMARY KEY, user_id int NOT NULL, at timestamptz NOT NULL, ip inet);
CREATE INDEX logins_user_at ON logins (user_id, at DESC);
CREATE UNIQUE INDEX logins_ip_at ON logins (ip, at) WHERE ip IS NOT NULL;
