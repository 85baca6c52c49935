-- 99_identity_sequence_renamed: schema B
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME order_numbers) PRIMARY KEY, note text);
CREATE TABLE items (id serial PRIMARY KEY, label text);
ALTER SEQUENCE items_id_seq RENAME TO item_numbers;
