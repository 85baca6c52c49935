-- 72_view_security_invoker: schema A
CREATE TABLE documents (id bigint PRIMARY KEY, owner text NOT NULL, body text);
CREATE VIEW my_documents AS SELECT id, body FROM documents WHERE owner = current_user;
CREATE VIEW public_documents WITH (security_barrier = true) AS SELECT id FROM documents WHERE owner = 'public';
