-- 09_type_widening: schema A
CREATE TABLE measurements (id int PRIMARY KEY, label varchar(50), amount numeric(10,2), note varchar(20));
