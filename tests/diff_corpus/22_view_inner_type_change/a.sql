-- 22_view_inner_type_change: schema A
CREATE TABLE payments (id bigint PRIMARY KEY, amount int, paid_at timestamptz);
CREATE VIEW payments_v AS SELECT id, amount FROM payments;
CREATE VIEW payments_total AS SELECT sum(amount) AS total FROM payments_v;
