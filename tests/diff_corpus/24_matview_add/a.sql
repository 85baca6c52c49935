-- 24_matview_add: schema A
CREATE TABLE sales (id bigint PRIMARY KEY, region text, amount numeric, sold_on date);
