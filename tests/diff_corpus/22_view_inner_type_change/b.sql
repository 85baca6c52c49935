-- 22_view_inner_type_change: schema B
CREATE TABLE payments (id bigint PRIMARY KEY, amount int, paid_at timestamptz);
CREATE VIEW payments_v AS SELECT id, amount::numeric(12,2) AS amount FROM payments;
CREATE VIEW payments_total AS SELECT sum(amount) AS total FROM payments_v;
