-- 24_matview_add: schema B
CREATE TABLE sales (id bigint PRIMARY KEY, region text, amount numeric, sold_on date);
CREATE VIEW sales_2026 AS SELECT * FROM sales WHERE sold_on >= date '2026-01-01';
CREATE MATERIALIZED VIEW region_totals AS SELECT region, sum(amount) AS total FROM sales_2026 GROUP BY region;
CREATE UNIQUE INDEX region_totals_region ON region_totals (region);
