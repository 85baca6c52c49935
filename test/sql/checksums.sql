-- Checksums: cosmetic edits are recognised from the parse tree; real edits, tampering and repair.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

SELECT migrate_register('1', 'accounts',
    E'CREATE TABLE accounts (\n    id bigint PRIMARY KEY,\n    email text NOT NULL\n);',
    'DROP TABLE accounts;') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();

-- Cosmetic: other whitespace, comments, keyword case, CRLF. Accepted with a NOTICE and recorded.
SELECT migrate_register('1', 'accounts',
    E'-- accounts of the shop\r\ncreate table accounts (id bigint primary key,  /* the login */ email text not null);\r\n',
    'DROP TABLE accounts;') = pgmig.script_checksum(
    E'-- accounts of the shop\ncreate table accounts (id bigint primary key,  /* the login */ email text not null);')
    AS new_checksum_stored;
SELECT version, state FROM migrate_status();
SELECT version, action, checksum = (SELECT checksum FROM pgmig.migrations WHERE version = '1') AS is_new,
       previous_checksum IS NOT NULL AS has_previous, reason
  FROM pgmig.history WHERE action = 'cosmetic_edit';

-- The same statements in the parse tree: whitespace, comments, case; different: anything else.
SELECT pgmig.same_statements('SELECT 1; SELECT 2', E'select 1;\n-- two\nselect   2;') AS cosmetic,
       pgmig.same_statements('SELECT 1', 'SELECT 2') AS different_constant,
       pgmig.same_statements('SELECT ''a  b''', 'SELECT ''a b''') AS different_string,
       pgmig.same_statements('SELECT 1; SELECT 2', 'SELECT 1') AS missing_statement,
       pgmig.same_statements('SELECT 1', 'SELEC 1') AS unparsable;

-- A real change is refused (PM002) and changes nothing.
SELECT migrate_register('1', 'accounts', 'CREATE TABLE accounts (id bigint PRIMARY KEY, email text);');
\echo :LAST_ERROR_SQLSTATE

-- Tampering: a superuser edits the stored script directly. migrate_verify() reports it,
-- migrate_status() shows it, and migrate_apply() refuses to run anything (PM008).
SELECT migrate_register('2', 'next', 'CREATE TABLE next_one (id int);') IS NOT NULL AS registered;
UPDATE pgmig.migrations SET up_sql = 'CREATE TABLE accounts (id int);' WHERE version = '1';
SELECT * FROM migrate_verify();
SELECT version, state FROM migrate_status();
SELECT * FROM migrate_apply();
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('next_one') AS next_one;
-- A reader, who may not read the scripts, sees the edited row in both as well (the scripts are hashed as
-- the ledger's owner), and only that row: its stored checksum, never its text.
CREATE ROLE regress_checksum_reader IN ROLE pgmig_reader;
SET ROLE regress_checksum_reader;
SELECT version, state FROM migrate_status();
SELECT version, problem FROM migrate_verify();
SELECT count(*) AS tampered, bool_and(stored_checksum = pgmig.script_checksum('CREATE TABLE accounts (id int);'))
       AS hashes_of_the_stored_text
  FROM pgmig.tampered_scripts();
SELECT up_sql FROM pgmig.migrations;
RESET ROLE;
DROP ROLE regress_checksum_reader;
-- Registering the original text again does not silently heal the edited row (PM008 too).
SELECT migrate_register('1', 'accounts',
    E'-- accounts of the shop\r\ncreate table accounts (id bigint primary key,  /* the login */ email text not null);\r\n',
    'DROP TABLE accounts;');
\echo :LAST_ERROR_SQLSTATE
SELECT version, problem FROM migrate_verify();

-- Editing script and checksum together is caught by the applied checksum and the history.
UPDATE pgmig.migrations SET checksum = pgmig.script_checksum(up_sql) WHERE version = '1';
SELECT version, problem FROM migrate_verify();
UPDATE pgmig.migrations SET applied_checksum = checksum WHERE version = '1';
SELECT version, problem FROM migrate_verify();

-- Repair accepts a text as the truth, with who and why; then the ledger is healthy again.
SELECT migrate_repair('1', E'CREATE TABLE accounts (\n    id bigint PRIMARY KEY,\n    email text NOT NULL\n);',
                      reason => 'restored the text that was really applied') IS NOT NULL AS repaired;
SELECT count(*) AS problems FROM migrate_verify();
SELECT version, action, reason, current_user_name FROM pgmig.history WHERE action = 'repair';
SELECT version, action FROM migrate_apply();

-- Repair of an unknown version.
SELECT migrate_repair('42');
\echo :LAST_ERROR_SQLSTATE

DROP EXTENSION pgmig;
DROP TABLE accounts, next_one;
