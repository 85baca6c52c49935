-- 09_type_widening: schema B
CREATE TABLE measurements (id bigint PRIMARY KEY, label varchar(200), amount numeric(14,2), note text);
