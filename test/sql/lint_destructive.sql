-- Lint, destructive rules: renames, drops, TRUNCATE, DELETE / UPDATE without WHERE.
CREATE EXTENSION pgmig;
CREATE SCHEMA lint_old;
CREATE TABLE lint_people (id bigint PRIMARY KEY, name text NOT NULL, nick text);
INSERT INTO lint_people SELECT g, 'p' || g, NULL FROM generate_series(1, 300) g;
ANALYZE lint_people;
CREATE FUNCTION lint(script text)
    RETURNS TABLE (rule text, severity text, line int, object text, table_rows bigint)
    LANGUAGE sql AS $$ SELECT rule, severity, line, object, table_rows FROM migrate_lint(script) $$;

-- Positive: every destructive statement on existing objects.
SELECT * FROM lint('ALTER TABLE lint_people RENAME COLUMN nick TO nickname;
ALTER TABLE lint_people RENAME TO lint_persons;
ALTER TABLE lint_persons DROP COLUMN nickname;
ALTER TABLE lint_persons ALTER COLUMN name DROP NOT NULL;
TRUNCATE lint_people;
DELETE FROM lint_people;
UPDATE lint_people SET nick = name;
DROP TABLE IF EXISTS lint_people;
DROP SCHEMA IF EXISTS lint_old CASCADE;');

-- Negative: the same on objects created by the script, and DML with WHERE.
SELECT * FROM lint('CREATE SCHEMA IF NOT EXISTS lint_tmp;
CREATE TABLE IF NOT EXISTS lint_tmp.t (id bigint, a text NOT NULL, b text);
ALTER TABLE lint_tmp.t RENAME COLUMN b TO c;
ALTER TABLE lint_tmp.t DROP COLUMN c;
ALTER TABLE lint_tmp.t ALTER COLUMN a DROP NOT NULL;
TRUNCATE lint_tmp.t;
DELETE FROM lint_tmp.t;
ALTER TABLE lint_tmp.t RENAME TO u;
DROP TABLE IF EXISTS lint_tmp.u;
DROP SCHEMA IF EXISTS lint_tmp;
DELETE FROM lint_people WHERE id < 0;
UPDATE lint_people SET nick = name WHERE nick IS NULL;');

SELECT message FROM migrate_lint('DROP TABLE IF EXISTS lint_people;');

DROP FUNCTION lint(text);
DROP TABLE lint_people;
DROP SCHEMA lint_old;
DROP EXTENSION pgmig;
