-- 72_view_security_invoker: schema B
CREATE TABLE documents (id bigint PRIMARY KEY, owner text NOT NULL, body text);
CREATE VIEW my_documents WITH (security_invoker = true) AS SELECT id, body FROM documents WHERE owner = current_user;
CREATE VIEW public_documents AS SELECT id FROM documents WHERE owner = 'public';
CREATE VIEW document_ids WITH (security_invoker = true, security_barrier = true) AS SELECT id FROM documents;
