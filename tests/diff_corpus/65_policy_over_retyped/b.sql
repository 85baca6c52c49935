-- 65_policy_over_retyped: schema B
CREATE TABLE docs (id bigint PRIMARY KEY, owner_id bigint NOT NULL, body text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_owner ON docs USING (owner_id = current_setting('app.user_id', true)::bigint);
CREATE MATERIALIZED VIEW doc_owners AS SELECT DISTINCT owner_id FROM docs;
