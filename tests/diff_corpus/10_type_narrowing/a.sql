-- 10_type_narrowing: schema A
CREATE TABLE readings (id bigint PRIMARY KEY, sensor text, taken timestamptz, value double precision);
