-- 28_sequence_default: schema A
CREATE TABLE receipts (id bigint PRIMARY KEY, number bigint);
