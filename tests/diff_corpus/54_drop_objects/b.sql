-- 54_drop_objects: schema B
CREATE TABLE items (id bigint PRIMARY KEY, name text);
