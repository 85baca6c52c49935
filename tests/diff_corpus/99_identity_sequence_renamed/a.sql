-- 99_identity_sequence_renamed: schema A
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
CREATE TABLE items (id serial PRIMARY KEY, label text);
