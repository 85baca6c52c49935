-- 56_domain_in_use: schema B
CREATE DOMAIN positive_int AS int CONSTRAINT positive_int_check CHECK (VALUE > 0);
CREATE TABLE counters (id bigint PRIMARY KEY, hits positive_int, misses positive_int);
