-- 05_column_default: schema A
CREATE TABLE orders (id bigint PRIMARY KEY, status text, created_at timestamptz DEFAULT now(), priority int DEFAULT 0);
