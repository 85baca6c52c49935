-- 43_row_security: schema A
CREATE TABLE tenants_data (id bigint PRIMARY KEY, tenant text NOT NULL, body text);
CREATE TABLE wiki (id bigint PRIMARY KEY, author text, public boolean);
ALTER TABLE wiki ENABLE ROW LEVEL SECURITY;
CREATE POLICY wiki_read ON wiki FOR SELECT USING (public);
CREATE POLICY wiki_old ON wiki FOR DELETE USING (false);
