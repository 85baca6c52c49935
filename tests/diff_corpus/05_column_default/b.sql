-- 05_column_default: schema B
CREATE TABLE orders (id bigint PRIMARY KEY, status text DEFAULT 'new', created_at timestamptz DEFAULT clock_timestamp(), priority int);
