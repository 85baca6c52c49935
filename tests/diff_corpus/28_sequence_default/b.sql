-- 28_sequence_default: schema B
CREATE SEQUENCE receipt_numbers START 500;
CREATE TABLE receipts (id bigint PRIMARY KEY, number bigint DEFAULT nextval('receipt_numbers'));
