-- 19_view_add: schema A
CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric, placed_at timestamptz);
