-- 76_aggregates: schema A
CREATE TABLE samples (id bigint PRIMARY KEY, v numeric NOT NULL);
CREATE AGGREGATE product(numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1');
CREATE VIEW sample_product AS SELECT product(v) AS p FROM samples;
CREATE AGGREGATE old_total(numeric) (SFUNC = numeric_add, STYPE = numeric);
