-- Lint, style advice: idempotent CREATE / DROP, jsonb, timestamptz, identity, bigint keys.
CREATE EXTENSION pgmig;
CREATE FUNCTION lint(script text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line int, object text)
    LANGUAGE sql AS $$ SELECT rule, severity, line, object FROM migrate_lint(script, options) $$;

-- Positive: advice in a transactional migration...
SELECT * FROM lint('CREATE TABLE lint_a (id serial PRIMARY KEY, doc json, at timestamp);
CREATE TABLE lint_b (id int, n int, PRIMARY KEY (id));
CREATE INDEX lint_b_n ON lint_b (n);
CREATE SCHEMA lint_s;
CREATE SEQUENCE lint_seq;
CREATE VIEW lint_v AS SELECT 1 AS one;
DROP VIEW lint_v;
DROP SEQUENCE lint_seq;');
-- ... and a warning where a statement may run twice (a resumed non-transactional migration).
SELECT * FROM lint('CREATE INDEX CONCURRENTLY lint_i ON lint_b (n);', '{"transactional": false}');
-- Negative: the preferred forms.
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc jsonb, at timestamptz, small int);
CREATE INDEX IF NOT EXISTS lint_a_at ON lint_a (at);
CREATE SCHEMA IF NOT EXISTS lint_s;
CREATE OR REPLACE VIEW lint_v AS SELECT 1 AS one;
DROP VIEW IF EXISTS lint_v;');
-- Column additions and type changes get the same advice.
SELECT * FROM lint('CREATE TABLE IF NOT EXISTS lint_c (id bigint);
ALTER TABLE lint_c ADD COLUMN doc json, ADD COLUMN at timestamp;');

DROP FUNCTION lint(text, jsonb);
DROP EXTENSION pgmig;
