-- 41_range_type: schema B
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TABLE shifts (id bigint PRIMARY KEY, worker text, hours floatrange, breaks floatmultirange);
