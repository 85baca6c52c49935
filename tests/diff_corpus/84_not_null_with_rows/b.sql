-- 84_not_null_with_rows: schema B, with rows
CREATE TABLE accounts (id uuid PRIMARY KEY);
CREATE TABLE projects (id bigint PRIMARY KEY, name text,
                       status text NOT NULL DEFAULT 'active',
                       account_id uuid NOT NULL REFERENCES accounts,
                       slug text NOT NULL CHECK (slug <> ''));
CREATE INDEX projects_account ON projects (account_id);
CREATE TABLE labels (id int PRIMARY KEY, title text NOT NULL);
INSERT INTO accounts VALUES ('00000000-0000-0000-0000-00000000000a'), ('00000000-0000-0000-0000-00000000000b');
INSERT INTO projects VALUES (1, 'alpha', 'active', '00000000-0000-0000-0000-00000000000b', 'alpha');
