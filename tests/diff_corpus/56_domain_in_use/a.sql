-- 56_domain_in_use: schema A
CREATE DOMAIN positive_int AS int;
CREATE TABLE counters (id bigint PRIMARY KEY, hits positive_int, misses int);
