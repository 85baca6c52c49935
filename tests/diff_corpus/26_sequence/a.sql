-- 26_sequence: schema A
CREATE SEQUENCE invoice_numbers START 1000;
CREATE SEQUENCE old_numbers;
