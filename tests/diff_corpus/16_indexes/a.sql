-- 16_indexes: schema A
CREATE TABLE documents (id bigint PRIMARY KEY, owner int, title text, body jsonb, deleted_at timestamptz, created_at timestamptz);
