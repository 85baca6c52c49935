-- 16_indexes: schema B
CREATE TABLE documents (id bigint PRIMARY KEY, owner int, title text, body jsonb, deleted_at timestamptz, created_at timestamptz);
CREATE INDEX documents_owner ON documents (owner);
CREATE UNIQUE INDEX documents_title_lower ON documents (lower(title));
CREATE INDEX documents_live ON documents (created_at) WHERE deleted_at IS NULL;
CREATE INDEX documents_owner_created ON documents (owner, created_at DESC);
CREATE INDEX documents_body ON documents USING gin (body jsonb_path_ops);
