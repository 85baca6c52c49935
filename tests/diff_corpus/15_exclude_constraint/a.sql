-- 15_exclude_constraint: schema A
CREATE TABLE bookings (id bigint PRIMARY KEY, room int NOT NULL, during tsrange NOT NULL);
