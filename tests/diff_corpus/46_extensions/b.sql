-- 46_extensions: schema B
CREATE EXTENSION citext;
CREATE EXTENSION hstore;
CREATE EXTENSION pg_trgm;
CREATE TABLE members (id bigint PRIMARY KEY, login text NOT NULL, email citext, attrs hstore);
CREATE INDEX members_login_trgm ON members USING gin (login gin_trgm_ops);
