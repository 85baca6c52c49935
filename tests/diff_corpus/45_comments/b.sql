-- 45_comments: schema B
CREATE TABLE clients (id bigint PRIMARY KEY, name text, vat text);
COMMENT ON TABLE clients IS 'every client we bill';
COMMENT ON COLUMN clients.name IS 'legal name, as on the invoice';
CREATE TYPE tier AS ENUM ('free', 'pro');
COMMENT ON TYPE tier IS 'billing tier';
CREATE SEQUENCE client_numbers;
COMMENT ON SEQUENCE client_numbers IS 'client numbers, never reused';
CREATE VIEW client_names AS SELECT name FROM clients;
COMMENT ON VIEW client_names IS 'names only, for the newsletter';
CREATE FUNCTION client_total() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM clients $$;
COMMENT ON FUNCTION client_total() IS 'how many clients; it''s cheap';
CREATE INDEX clients_name ON clients (name);
COMMENT ON INDEX clients_name IS 'lookups by name';
