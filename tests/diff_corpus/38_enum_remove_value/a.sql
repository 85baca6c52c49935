-- 38_enum_remove_value: schema A
CREATE TYPE shipping AS ENUM ('standard', 'express', 'pigeon');
CREATE TABLE parcels (id bigint PRIMARY KEY, method shipping NOT NULL DEFAULT 'standard');
