-- 38_enum_remove_value: schema B
CREATE TYPE shipping AS ENUM ('standard', 'express');
CREATE TABLE parcels (id bigint PRIMARY KEY, method shipping NOT NULL DEFAULT 'standard');
