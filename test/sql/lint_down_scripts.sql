-- Lint of down scripts (the down_of option): a down script may drop what its own up script created;
-- anything else it drops is reported as in an up script. Also the wording of a few findings.
CREATE EXTENSION pgmig;
CREATE FUNCTION lint(script text, options jsonb DEFAULT '{}')
    RETURNS TABLE (rule text, severity text, line int, object text)
    LANGUAGE sql AS $$ SELECT rule, severity, line, object FROM migrate_lint(script, options)
                        WHERE rule <> 'drop-not-idempotent' $$;
-- What an applied up script made: a table with an index, a view, a sequence, a schema, a column added
-- to an existing table.
CREATE TABLE lint_down_base (id bigint PRIMARY KEY, note text);
CREATE TABLE lint_down_t (id bigint PRIMARY KEY, note text);
CREATE INDEX lint_down_t_note_idx ON lint_down_t (note);
CREATE VIEW lint_down_v AS SELECT id FROM lint_down_t;
CREATE SEQUENCE lint_down_seq;
CREATE SCHEMA lint_down_s;
ALTER TABLE lint_down_base ADD COLUMN extra int;

-- The down script alone (no down_of): every drop of an existing object is reported.
SELECT * FROM lint('ALTER TABLE lint_down_base DROP COLUMN extra;
DROP INDEX lint_down_t_note_idx;
DROP VIEW lint_down_v;
DROP SEQUENCE lint_down_seq;
DROP TABLE lint_down_t;
DROP SCHEMA lint_down_s;');
-- As the down script of the up script that created them: nothing of that is reported.
SELECT * FROM lint('ALTER TABLE lint_down_base DROP COLUMN extra;
DROP INDEX lint_down_t_note_idx;
DROP VIEW lint_down_v;
DROP SEQUENCE lint_down_seq;
DROP TABLE lint_down_t;
DROP SCHEMA lint_down_s;', jsonb_build_object('down_of', 'CREATE TABLE lint_down_t (id bigint PRIMARY KEY, note text);
CREATE INDEX lint_down_t_note_idx ON lint_down_t (note);
CREATE VIEW lint_down_v AS SELECT id FROM lint_down_t;
CREATE SEQUENCE lint_down_seq;
CREATE SCHEMA lint_down_s;
ALTER TABLE lint_down_base ADD COLUMN extra int;'));
-- A down script that drops what its up script did not create is still reported: another column, a table
-- the up only altered. Qualified and unqualified names of the same table match.
SELECT * FROM lint('ALTER TABLE public.lint_down_base DROP COLUMN extra;
ALTER TABLE lint_down_base DROP COLUMN note;
DROP TABLE lint_down_base;
DROP TABLE public.lint_down_t;', jsonb_build_object('down_of', 'ALTER TABLE lint_down_base ADD COLUMN extra int;
CREATE TABLE lint_down_t (id bigint PRIMARY KEY, note text);'));
-- Names in another schema are other objects.
SELECT * FROM lint('DROP TABLE public.lint_down_t;',
                   jsonb_build_object('down_of', 'CREATE TABLE lint_down_s.lint_down_t (id bigint);'));
-- An index its up script built CONCURRENTLY (a non-transactional migration): its down can drop it the same way.
SELECT * FROM lint('DROP INDEX lint_down_t_note_idx;', jsonb_build_object('transactional', false, 'down_of',
                   'CREATE INDEX CONCURRENTLY lint_down_t_note_idx ON lint_down_t (note);'));
-- An up script that does not parse created nothing.
SELECT * FROM lint('DROP TABLE lint_down_t;', jsonb_build_object('down_of', 'CREATE TABLE lint_down_t (;'));
-- down_of must be the up script's text.
SELECT * FROM lint('DROP TABLE lint_down_t;', '{"down_of": 1}');

-- Wording: what to write instead of a CREATE that cannot run twice (a view and a function have no IF NOT
-- EXISTS); a materialized view is called one.
SELECT rule, message FROM migrate_lint('CREATE VIEW lint_down_v2 AS SELECT 1 AS one;
CREATE FUNCTION lint_down_f() RETURNS int LANGUAGE sql AS ''SELECT 1'';
CREATE MATERIALIZED VIEW lint_down_mv AS SELECT 1 AS one;
CREATE TABLE lint_down_ctas AS SELECT 1 AS one;');
-- DROP INDEX: the size given is its table's, and the object is that table (the message names the index).
SELECT rule, object, message, table_bytes IS NOT NULL AS sized FROM migrate_lint('DROP INDEX lint_down_t_note_idx;');

DROP SCHEMA lint_down_s;
DROP SEQUENCE lint_down_seq;
DROP VIEW lint_down_v;
DROP TABLE lint_down_t, lint_down_base;
DROP FUNCTION lint(text, jsonb);
DROP EXTENSION pgmig;
