-- 50_fk_new_tables: schema A
CREATE TABLE anchor (id int PRIMARY KEY);
