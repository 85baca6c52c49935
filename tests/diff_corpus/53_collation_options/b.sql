-- 53_collation_options: schema B
CREATE TABLE words (id bigint PRIMARY KEY, word text COLLATE "C", lang text) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.05);
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text);
