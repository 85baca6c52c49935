-- 67_view_column_dropped: schema A
CREATE TABLE cars (id bigint PRIMARY KEY, make text, model text, vin text);
CREATE VIEW car_list AS SELECT id, make, model, vin FROM cars;
CREATE VIEW makes AS SELECT DISTINCT make FROM car_list;
