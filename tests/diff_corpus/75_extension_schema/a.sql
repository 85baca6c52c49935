-- 75_extension_schema: schema A
CREATE SCHEMA extensions;
CREATE EXTENSION citext;
CREATE TABLE accounts (id bigint PRIMARY KEY, email citext);
