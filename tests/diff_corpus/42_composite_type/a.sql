-- 42_composite_type: schema A
CREATE TYPE money_amount AS (amount numeric, currency char(3));
CREATE TABLE invoices (id bigint PRIMARY KEY, total money_amount);
