-- 27_serial_owned_by: schema B
CREATE TABLE widgets (code text PRIMARY KEY, name text, n serial);
CREATE TABLE gadgets (id bigint PRIMARY KEY);
CREATE SEQUENCE gadgets_id_seq OWNED BY gadgets.id;
