-- 39_enum_column: schema B
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE TYPE fuel AS ENUM ('petrol', 'diesel', 'electric');
CREATE TABLE cars (id bigint PRIMARY KEY, paint color, fuel fuel NOT NULL DEFAULT 'electric');
