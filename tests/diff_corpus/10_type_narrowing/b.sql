-- 10_type_narrowing: schema B
CREATE TABLE readings (id int PRIMARY KEY, sensor varchar(40), taken date, value real);
