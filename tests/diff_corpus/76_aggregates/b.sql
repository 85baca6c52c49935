-- 76_aggregates: schema B
CREATE TABLE samples (id bigint PRIMARY KEY, v numeric NOT NULL);
CREATE AGGREGATE product(numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1', PARALLEL = SAFE);
CREATE VIEW sample_product AS SELECT product(v) AS p FROM samples;
CREATE FUNCTION longest_step(state text, v text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN state IS NULL OR length(v) > length(state) THEN v ELSE state END $$;
CREATE AGGREGATE longest(text) (SFUNC = longest_step, STYPE = text);
