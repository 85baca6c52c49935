-- 75_extension_schema: schema B
CREATE SCHEMA extensions;
CREATE EXTENSION citext SCHEMA extensions;
CREATE EXTENSION hstore SCHEMA extensions;
CREATE TABLE accounts (id bigint PRIMARY KEY, email extensions.citext, attrs extensions.hstore);
