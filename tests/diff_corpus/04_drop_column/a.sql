-- 04_drop_column: schema A
CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, obsolete_code varchar(10), weight numeric(8,2));
