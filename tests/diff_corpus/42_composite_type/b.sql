-- 42_composite_type: schema B
CREATE TYPE money_amount AS (amount numeric, currency char(3), rate numeric);
CREATE TYPE address AS (street text, city text, zip text);
CREATE TABLE invoices (id bigint PRIMARY KEY, total money_amount, billing address);
