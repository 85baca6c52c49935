-- 82_operators: schema A
CREATE TABLE points (id bigint PRIMARY KEY, x int NOT NULL, y int NOT NULL);
