-- 15_exclude_constraint: schema B
CREATE TABLE bookings (id bigint PRIMARY KEY, room int NOT NULL, during tsrange NOT NULL,
                       CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&));
