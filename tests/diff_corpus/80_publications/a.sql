-- 80_publications: schema A
CREATE TABLE orders (id bigint PRIMARY KEY, status text, total numeric);
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
CREATE TABLE audit_events (id bigint PRIMARY KEY, what text);
CREATE PUBLICATION corpus_orders FOR TABLE orders;
CREATE PUBLICATION corpus_everything FOR ALL TABLES;
