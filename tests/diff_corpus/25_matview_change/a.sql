-- 25_matview_change: schema A
CREATE TABLE sales (id bigint PRIMARY KEY, region text, amount numeric, sold_on date);
CREATE MATERIALIZED VIEW region_totals AS SELECT region, sum(amount) AS total FROM sales GROUP BY region;
CREATE UNIQUE INDEX region_totals_region ON region_totals (region);
CREATE VIEW top_regions AS SELECT region FROM region_totals WHERE total > 100;
