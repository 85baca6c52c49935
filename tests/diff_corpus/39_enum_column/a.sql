-- 39_enum_column: schema A
CREATE TYPE color AS ENUM ('red', 'green');
CREATE TABLE cars (id bigint PRIMARY KEY, paint color);
