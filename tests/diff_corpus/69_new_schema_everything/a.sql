-- 69_new_schema_everything: schema A
CREATE TABLE core (id int PRIMARY KEY);
