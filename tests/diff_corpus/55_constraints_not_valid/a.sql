-- 55_constraints_not_valid: schema A
CREATE TABLE parents (id bigint PRIMARY KEY);
CREATE TABLE kids (id bigint PRIMARY KEY, parent_id bigint, age int);
