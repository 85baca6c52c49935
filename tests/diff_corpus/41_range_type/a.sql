-- 41_range_type: schema A
CREATE TABLE shifts (id bigint PRIMARY KEY, worker text);
