-- 80_publications: schema B
CREATE TABLE orders (id bigint PRIMARY KEY, status text, total numeric);
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
CREATE TABLE audit_events (id bigint PRIMARY KEY, what text);
CREATE PUBLICATION corpus_orders FOR TABLE orders, customers (id, name) WHERE (id > 0) WITH (publish = 'insert, update');
CREATE PUBLICATION corpus_audit FOR TABLE audit_events;
COMMENT ON PUBLICATION corpus_audit IS 'to the audit replica';
