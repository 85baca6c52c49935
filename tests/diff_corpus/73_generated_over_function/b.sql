-- 73_generated_over_function: schema B
CREATE FUNCTION full_name(first text, last text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT first || ' ' || last $$;
CREATE FUNCTION slugify(t text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT lower(regexp_replace(t, '[^a-zA-Z0-9]+', '-', 'g')) $$;
CREATE TABLE people (id bigint PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL,
                     display_name text GENERATED ALWAYS AS (full_name(first_name, last_name)) STORED);
CREATE TABLE articles (id bigint PRIMARY KEY, title text NOT NULL,
                       slug text GENERATED ALWAYS AS (slugify(title)) STORED);
