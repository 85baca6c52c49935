-- 45_comments: schema A
CREATE TABLE clients (id bigint PRIMARY KEY, name text, vat text);
COMMENT ON TABLE clients IS 'our clients';
COMMENT ON COLUMN clients.vat IS 'old VAT number';
CREATE TYPE tier AS ENUM ('free', 'pro');
CREATE SEQUENCE client_numbers;
CREATE VIEW client_names AS SELECT name FROM clients;
CREATE FUNCTION client_total() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM clients $$;
CREATE INDEX clients_name ON clients (name);
