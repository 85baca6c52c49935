-- Lint, column rules: each with a positive case (existing table) and a negative one.
CREATE EXTENSION pgmig;
CREATE TABLE lint_users (id bigint PRIMARY KEY, email varchar(50), price numeric(10,2), note text);
INSERT INTO lint_users SELECT g, 'u' || g, g, 'n' FROM generate_series(1, 1000) g;
ANALYZE lint_users;
CREATE FUNCTION lint(script text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line int, col int, object text, waived boolean)
    LANGUAGE sql AS $$ SELECT rule, severity, line, col, object, waived FROM migrate_lint(script, options) $$;

-- add-column-not-null-no-default: the finding states the table's current size.
SELECT rule, severity, line, object, table_rows,
       table_bytes = pg_total_relation_size('lint_users') AS size_is_current
  FROM migrate_lint('ALTER TABLE lint_users ADD COLUMN a int NOT NULL;');
-- ... not with a default, and not on a table created earlier in the same script.
SELECT * FROM lint('ALTER TABLE lint_users ADD COLUMN a int NOT NULL DEFAULT 0;');
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_new (id bigint);
ALTER TABLE lint_new ADD COLUMN a int NOT NULL;');

-- add-column-volatile-default: clock_timestamp(), random(), gen_random_uuid(), serial, identity.
SELECT * FROM lint('ALTER TABLE lint_users ADD COLUMN b timestamptz DEFAULT clock_timestamp();
ALTER TABLE lint_users ADD COLUMN c float8 DEFAULT random() * 10;
ALTER TABLE lint_users ADD COLUMN d uuid DEFAULT gen_random_uuid();
ALTER TABLE lint_users ADD COLUMN e bigint GENERATED ALWAYS AS IDENTITY;');
-- ... not for now() (stable: evaluated once, no rewrite) or a constant.
SELECT * FROM lint('ALTER TABLE lint_users ADD COLUMN b timestamptz DEFAULT now();
ALTER TABLE lint_users ADD COLUMN c text DEFAULT ''x'';');

-- alter-column-type: a rewrite is an error, a widening without rewrite a warning.
SELECT rule, severity, line, left(message, 60) AS message FROM migrate_lint('
ALTER TABLE lint_users ALTER COLUMN email TYPE varchar(20);
ALTER TABLE lint_users ALTER COLUMN email TYPE varchar(100);
ALTER TABLE lint_users ALTER COLUMN email TYPE text;
ALTER TABLE lint_users ALTER COLUMN price TYPE numeric(12,2);
ALTER TABLE lint_users ALTER COLUMN price TYPE numeric(12,3);
ALTER TABLE lint_users ALTER COLUMN note TYPE varchar(10) USING left(note, 10);');
-- ... nothing on a table created in the script.
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_new (id int);
ALTER TABLE lint_new ALTER COLUMN id TYPE bigint;');

-- set-not-null: a scan under ACCESS EXCLUSIVE...
SELECT * FROM lint('ALTER TABLE lint_users ALTER COLUMN email SET NOT NULL;');
-- ... not on a new table.
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_new (id int);
ALTER TABLE lint_new ALTER COLUMN id SET NOT NULL;');

-- The message says the safe way.
SELECT message FROM migrate_lint('ALTER TABLE lint_users ALTER COLUMN email SET NOT NULL;');

DROP FUNCTION lint(text, jsonb);
DROP TABLE lint_users;
DROP EXTENSION pgmig;
