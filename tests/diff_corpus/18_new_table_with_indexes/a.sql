-- 18_new_table_with_indexes: schema A
CREATE TABLE base (id int PRIMARY KEY);
