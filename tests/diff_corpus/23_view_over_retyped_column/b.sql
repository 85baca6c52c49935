-- 23_view_over_retyped_column: schema B
CREATE TABLE invoices (id int PRIMARY KEY, customer_id int NOT NULL, cents bigint NOT NULL);
CREATE VIEW invoice_cents AS SELECT id, customer_id, cents FROM invoices;
CREATE VIEW customer_cents AS SELECT customer_id, sum(cents) AS cents FROM invoice_cents GROUP BY customer_id;
