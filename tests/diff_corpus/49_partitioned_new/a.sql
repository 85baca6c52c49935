-- 49_partitioned_new: schema A
CREATE TABLE regions (code text PRIMARY KEY);
