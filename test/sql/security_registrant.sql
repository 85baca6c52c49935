-- A pgmig_admin that is no superuser registers SQL that would make it one, under an innocuous name. A
-- superuser's migrate_apply() (and every other function that runs registered SQL: dry runs, migrate_test,
-- rollbacks, the non-transactional path) must refuse it, naming the registrant, unless a role with the
-- caller's rights registered the same definition (vouched for it), approved its checksum, or the caller
-- passes trust => true. Registrations are made by logging in as the role (\c): a session that logged in
-- as a superuser vouches as that superuser too, since its SQL could switch back to it.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SELECT current_user AS su \gset
CREATE ROLE regress_adm LOGIN IN ROLE pgmig_admin;
CREATE ROLE regress_dba LOGIN SUPERUSER;                    -- a second superuser, who reviews and approves
CREATE ROLE regress_approver LOGIN IN ROLE pgmig_approver;  -- an approver without the caller's rights
GRANT CREATE ON SCHEMA public TO regress_adm;

\c - regress_adm
\set SHOW_CONTEXT never
SELECT migrate_register('100', 'innocuous_name', 'ALTER ROLE regress_adm SUPERUSER',
                        'ALTER ROLE regress_adm NOSUPERUSER') IS NOT NULL AS registered;
\c - :su
\set SHOW_CONTEXT never
SELECT version, registered_by, vouched_by FROM pgmig.migrations;

-- The superuser's apply refuses, and names the registrant; so do the dry runs and the rollback test.
SELECT version, action FROM migrate_apply();
SELECT version, action FROM migrate_apply(dry_run => true);
SELECT version, outcome FROM migrate_plan();
SELECT step, passed FROM migrate_test('100');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';
-- A superuser that switches to the registrant first is refused too: the script could switch back.
SET ROLE regress_adm;
SELECT version, action FROM migrate_apply();
RESET ROLE;
SET SESSION AUTHORIZATION regress_adm;
SELECT version, action FROM migrate_apply();
RESET SESSION AUTHORIZATION;

-- An approval by a role without the caller's rights does not help; one by a superuser does.
SET SESSION AUTHORIZATION regress_approver;
SELECT approved_version, approved_by FROM migrate_approve('100', 'production');
RESET SESSION AUTHORIZATION;
SELECT version, action FROM migrate_apply();
SET SESSION AUTHORIZATION regress_dba;
SELECT approved_version, approved_by FROM migrate_approve('100', 'staging');
RESET SESSION AUTHORIZATION;
SELECT version, action FROM migrate_apply();
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';
ALTER ROLE regress_adm NOSUPERUSER;

-- The non-transactional path (the client's) checks the same; trust => true takes the script as it is.
\c - regress_adm
\set SHOW_CONTEXT never
SELECT migrate_register('101', 'innocuous_index', 'ALTER ROLE regress_adm SUPERUSER',
                        options => '{"transactional": false}') IS NOT NULL AS registered;
\c - :su
\set SHOW_CONTEXT never
SELECT pg_advisory_lock(482771560807);
SELECT migrate_nontx_begin('101');
SELECT migrate_nontx_begin('101', trust => true);
-- Taken as it is: the superuser runs the registered statement itself, as the client would.
ALTER ROLE regress_adm SUPERUSER;
SELECT migrate_nontx_progress('101', 1);
SELECT migrate_nontx_finish('101', '1 second');
SELECT pg_advisory_unlock(482771560807);
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';
ALTER ROLE regress_adm NOSUPERUSER;

-- A repeatable migration is no way around it.
\c - regress_adm
\set SHOW_CONTEXT never
SELECT migrate_register(NULL, 'views', 'ALTER ROLE regress_adm SUPERUSER',
                        options => '{"repeatable": true}') IS NOT NULL AS registered;
\c - :su
\set SHOW_CONTEXT never
SELECT version, name, action FROM migrate_apply();
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';
SELECT version, name, action FROM migrate_apply(trust => true);
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';
ALTER ROLE regress_adm NOSUPERUSER;

-- Vouching: the superuser registers the very same definition (pgmig apply does, from its files); then it runs.
\c - regress_adm
\set SHOW_CONTEXT never
SELECT migrate_register('102', 'vouched', 'CREATE TABLE vouched (id int)', 'DROP TABLE vouched') IS NOT NULL AS registered;
\c - :su
\set SHOW_CONTEXT never
SELECT version, action FROM migrate_apply();
SELECT migrate_register('102', 'vouched', 'CREATE TABLE vouched (id int)', 'DROP TABLE vouched') IS NOT NULL AS registered;
SELECT version, registered_by, vouched_by FROM pgmig.migrations WHERE version = '102';
SELECT version, action FROM migrate_apply();

-- Rollback: the registrant edits the down script of an applied migration (which is allowed): the vouchers are
-- reset (the author of the up script stays registered_by), and the superuser's rollback refuses.
\c - regress_adm
\set SHOW_CONTEXT never
SELECT migrate_register('102', 'vouched', 'CREATE TABLE vouched (id int)',
                        'DROP TABLE vouched; ALTER ROLE regress_adm SUPERUSER') IS NOT NULL AS registered;
\c - :su
\set SHOW_CONTEXT never
SELECT version, registered_by, vouched_by FROM pgmig.migrations WHERE version = '102';
SELECT version, action FROM migrate_rollback();
SELECT version, action FROM migrate_rollback_to('0');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';
-- The registrant, logged in as itself, may run its own down script: with its own rights, it fails.
\c - regress_adm
\set SHOW_CONTEXT never
SELECT version, action FROM migrate_rollback();
\c - :su
\set SHOW_CONTEXT never
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_adm';

-- Peer roles: two pgmig_admins with different rights. b's SQL must not run with a's rights (a owns a
-- table b may not touch), unless b has every right of a: membership that inherits, and a's attributes.
CREATE ROLE regress_peer_a LOGIN IN ROLE pgmig_admin;
CREATE ROLE regress_peer_b LOGIN IN ROLE pgmig_admin;
GRANT CREATE ON SCHEMA public TO regress_peer_a, regress_peer_b;
SET SESSION AUTHORIZATION regress_peer_a;
CREATE TABLE peer_a_secrets (id int);
RESET SESSION AUTHORIZATION;
\c - regress_peer_b
\set SHOW_CONTEXT never
SELECT migrate_register('103', 'cleanup', 'DROP TABLE peer_a_secrets') IS NOT NULL AS registered;
\c - regress_peer_a
\set SHOW_CONTEXT never
SELECT version, action FROM migrate_apply();
\c - :su
\set SHOW_CONTEXT never
-- b becomes a member of a: it has a's privileges now, but not a's CREATEROLE, which membership does not pass on.
GRANT regress_peer_a TO regress_peer_b;
ALTER ROLE regress_peer_a CREATEROLE;
\c - regress_peer_a
\set SHOW_CONTEXT never
SELECT version, action FROM migrate_apply();
\c - :su
\set SHOW_CONTEXT never
ALTER ROLE regress_peer_a NOCREATEROLE;
\c - regress_peer_a
\set SHOW_CONTEXT never
SELECT version, action FROM migrate_apply();
-- Not the other way round: a's SQL may not run as b, who has rights of its own that a lacks.
SELECT migrate_register('104', 'by_a', 'CREATE TABLE by_a (id int)') IS NOT NULL AS registered;
\c - regress_peer_b
\set SHOW_CONTEXT never
SELECT version, action FROM migrate_apply();
\c - :su

DROP EXTENSION pgmig;
DROP TABLE vouched;
ALTER ROLE regress_adm NOSUPERUSER;
REVOKE CREATE ON SCHEMA public FROM regress_adm, regress_peer_a, regress_peer_b;
DROP ROLE regress_adm, regress_dba, regress_approver, regress_peer_a, regress_peer_b;
