-- 57_app_evolution: schema B
CREATE TYPE plan AS ENUM ('free', 'pro', 'enterprise');
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, plan plan NOT NULL DEFAULT 'free',
                       created_at timestamptz NOT NULL DEFAULT now(), billing_email text);
COMMENT ON COLUMN accounts.billing_email IS 'where invoices go';
CREATE TABLE projects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, title text NOT NULL,
                       archived boolean NOT NULL DEFAULT false);
CREATE INDEX projects_account ON projects (account_id) WHERE NOT archived;
CREATE TABLE tasks (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, project_id bigint NOT NULL REFERENCES projects ON DELETE CASCADE,
                    title text NOT NULL, done boolean NOT NULL DEFAULT false, due date);
CREATE INDEX tasks_project_due ON tasks (project_id, due);
CREATE FUNCTION project_count(acc bigint) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM projects WHERE account_id = acc AND NOT archived $$;
CREATE VIEW open_tasks AS SELECT t.id, t.title, p.title AS project FROM tasks t JOIN projects p ON p.id = t.project_id WHERE NOT t.done;
GRANT SELECT ON open_tasks TO pgmig_corpus_reader;
