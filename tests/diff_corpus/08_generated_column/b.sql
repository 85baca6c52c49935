-- 08_generated_column: schema B
CREATE TABLE line_items (id bigint PRIMARY KEY, quantity int NOT NULL, unit_price numeric(10,2) NOT NULL,
                         total numeric(12,2) GENERATED ALWAYS AS (quantity * unit_price) STORED);
