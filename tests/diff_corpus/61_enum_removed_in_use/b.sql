-- 61_enum_removed_in_use: schema B
CREATE TYPE state AS ENUM ('draft', 'published', 'archived');
CREATE TABLE posts (id bigint PRIMARY KEY, state state NOT NULL DEFAULT 'draft', title text);
CREATE VIEW published_posts AS SELECT id, title FROM posts WHERE state = 'published';
CREATE FUNCTION is_visible(s state) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT s = 'published' $$;
