-- 49_partitioned_new: schema B
CREATE TABLE regions (code text PRIMARY KEY);
CREATE TABLE orders (id bigint NOT NULL, region text NOT NULL, placed date NOT NULL) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('de', 'fr', 'it') PARTITION BY RANGE (placed);
CREATE TABLE orders_eu_2026 PARTITION OF orders_eu FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
