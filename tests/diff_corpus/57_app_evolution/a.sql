-- 57_app_evolution: schema A
CREATE TYPE plan AS ENUM ('free', 'pro');
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, plan plan NOT NULL DEFAULT 'free');
CREATE TABLE projects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, title text NOT NULL);
CREATE INDEX projects_account ON projects (account_id);
CREATE FUNCTION project_count(acc bigint) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM projects WHERE account_id = acc $$;
