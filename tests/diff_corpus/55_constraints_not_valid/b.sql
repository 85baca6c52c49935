-- 55_constraints_not_valid: schema B
CREATE TABLE parents (id bigint PRIMARY KEY);
CREATE TABLE kids (id bigint PRIMARY KEY, parent_id bigint, age int);
ALTER TABLE kids ADD CONSTRAINT kids_age CHECK (age >= 0) NOT VALID;
ALTER TABLE kids ADD CONSTRAINT kids_parent FOREIGN KEY (parent_id) REFERENCES parents NOT VALID;
