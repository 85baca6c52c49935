-- 58_no_change: schema B
CREATE TABLE same (id bigint PRIMARY KEY, v text);
CREATE VIEW same_v AS SELECT v FROM same;
