-- Lint, constraint rules: CHECK / FOREIGN KEY without NOT VALID, PRIMARY KEY / UNIQUE without an index.
CREATE EXTENSION pgmig;
CREATE TABLE lint_accounts (id bigint PRIMARY KEY);
CREATE TABLE lint_orders (id bigint, account_id bigint, total numeric, code text);
INSERT INTO lint_orders SELECT g, g, g, 'c' || g FROM generate_series(1, 500) g;
ANALYZE lint_orders;
CREATE UNIQUE INDEX lint_orders_code ON lint_orders (code);
CREATE FUNCTION lint(script text)
    RETURNS TABLE (rule text, severity text, line int, object text, table_rows bigint)
    LANGUAGE sql AS $$ SELECT rule, severity, line, object, table_rows FROM migrate_lint(script) $$;

-- add-constraint-not-valid-missing: CHECK and FOREIGN KEY scan the table under lock...
SELECT * FROM lint('ALTER TABLE lint_orders ADD CONSTRAINT positive CHECK (total > 0);
ALTER TABLE lint_orders ADD CONSTRAINT account FOREIGN KEY (account_id) REFERENCES lint_accounts (id);');
-- ... NOT VALID then VALIDATE is the safe way, and a new table is fine.
SELECT * FROM lint('ALTER TABLE lint_orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID;
ALTER TABLE lint_orders VALIDATE CONSTRAINT positive;
ALTER TABLE lint_orders ADD CONSTRAINT account FOREIGN KEY (account_id) REFERENCES lint_accounts (id) NOT VALID;
CREATE TABLE IF NOT EXISTS lint_new (id bigint PRIMARY KEY, n int);
ALTER TABLE lint_new ADD CONSTRAINT n_positive CHECK (n > 0);');

-- add-unique-without-index: PRIMARY KEY and UNIQUE build their index under ACCESS EXCLUSIVE...
SELECT * FROM lint('ALTER TABLE lint_orders ADD PRIMARY KEY (id);
ALTER TABLE lint_orders ADD CONSTRAINT code_unique UNIQUE (code);');
-- ... USING an index built CONCURRENTLY before is the safe way.
SELECT * FROM lint('ALTER TABLE lint_orders ADD CONSTRAINT code_unique UNIQUE USING INDEX lint_orders_code;');
SELECT message FROM migrate_lint('ALTER TABLE lint_orders ADD PRIMARY KEY (id);');

DROP FUNCTION lint(text);
DROP TABLE lint_orders, lint_accounts;
DROP EXTENSION pgmig;
