-- 33_function_in_view: schema B
CREATE FUNCTION display_name(first text, last text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT last || ', ' || first $$;
CREATE TABLE people (id bigint PRIMARY KEY, first text, last text);
CREATE VIEW people_names AS SELECT id, display_name(first, last) AS name FROM people;
