-- 27_serial_owned_by: schema A
CREATE TABLE widgets (code text PRIMARY KEY, name text);
CREATE TABLE gadgets (id bigint PRIMARY KEY);
CREATE SEQUENCE gadgets_id_seq;
