-- 08_generated_column: schema A
CREATE TABLE line_items (id bigint PRIMARY KEY, quantity int NOT NULL, unit_price numeric(10,2) NOT NULL);
