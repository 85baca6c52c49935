-- 43_row_security: schema B
CREATE TABLE tenants_data (id bigint PRIMARY KEY, tenant text NOT NULL, body text);
ALTER TABLE tenants_data ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants_data FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants_data USING (tenant = current_setting('app.tenant', true))
    WITH CHECK (tenant = current_setting('app.tenant', true));
CREATE TABLE wiki (id bigint PRIMARY KEY, author text, public boolean);
ALTER TABLE wiki ENABLE ROW LEVEL SECURITY;
CREATE POLICY wiki_read ON wiki FOR SELECT USING (public OR author = current_user);
CREATE POLICY wiki_write ON wiki AS RESTRICTIVE FOR UPDATE TO pgmig_corpus_writer USING (author = current_user);
