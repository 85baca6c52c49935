-- Four-eyes approvals: migrate_approve records session_user's approval of a pending migration's
-- checksum for an environment; migrate_approval_check says, for every pending migration, whether a
-- role other than its registrant approved its current checksum (security_approval_required covers
-- how migrate_apply enforces it).
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE ROLE regress_alice LOGIN IN ROLE pgmig_admin, pgmig_approver;
CREATE ROLE regress_bob LOGIN IN ROLE pgmig_approver;
CREATE ROLE regress_reader LOGIN IN ROLE pgmig_reader;
CREATE ROLE regress_nobody LOGIN;
GRANT regress_alice TO regress_bob;  -- so that bob can SET ROLE to alice below
GRANT CREATE ON SCHEMA public TO regress_alice;

SET SESSION AUTHORIZATION regress_alice;
SELECT migrate_register('1', 'accounts', 'CREATE TABLE accounts (id int);') IS NOT NULL AS registered;
SELECT migrate_register('2', 'orders', 'CREATE TABLE orders (id int);') IS NOT NULL AS registered;
SELECT version FROM migrate_apply('1');

-- Nothing approved yet: both reasons are spelled out.
SELECT version, name, status, approvers, detail FROM migrate_approval_check('production');

-- alice registered 2: she may not approve it herself.
SELECT approved_version, approved_name, approved_for, approved_by FROM migrate_approve('2', 'production');
SELECT version, status, approvers, detail FROM migrate_approval_check('production');
-- Approvals are per environment.
SELECT version, status FROM migrate_approval_check('staging');
-- Applied versions cannot be approved; an unregistered one only with the checksum that was reviewed; a
-- reviewed checksum must be a checksum.
SELECT * FROM migrate_approve('1', 'production');
SELECT * FROM migrate_approve('9', 'production');
SELECT * FROM migrate_approve('2', 'production', 'deadbeef');
SELECT * FROM migrate_approve('2', '');
RESET SESSION AUTHORIZATION;

-- bob approves the checksum he reviewed: it counts, whoever deploys (alice registered it).
SET SESSION AUTHORIZATION regress_bob;
SELECT approved_version, approved_by FROM migrate_approve('2', 'production', pgmig.script_checksum('CREATE TABLE orders (id int);'));
SELECT version, status, approvers FROM migrate_approval_check('production', 'regress_alice');
SELECT version, status, approvers FROM migrate_approval_check('production');
-- SET ROLE does not let bob approve as alice: approvals are recorded by session_user.
SET ROLE regress_alice;
SELECT approved_by FROM migrate_approve('2', 'staging');
RESET ROLE;
-- bob cannot write approvals directly, nor change or delete them.
INSERT INTO pgmig.approvals (version, name, checksum, environment, approved_by) VALUES ('2', 'orders', 'x', 'production', 'carol');
UPDATE pgmig.approvals SET approved_by = 'carol';
DELETE FROM pgmig.approvals;
RESET SESSION AUTHORIZATION;

-- The script changes after the approvals: they stop counting, and the check says why.
SET SESSION AUTHORIZATION regress_alice;
SELECT migrate_register('2', 'orders', 'CREATE TABLE orders (id bigint);') IS NOT NULL AS registered;
SELECT version, status, approvers, detail FROM migrate_approval_check('production');
RESET SESSION AUTHORIZATION;

-- A reader may check approvals but not approve; a role without pgmig's roles may do neither.
SET SESSION AUTHORIZATION regress_reader;
SELECT version, status FROM migrate_approval_check('production', 'regress_alice');
SELECT * FROM migrate_approve('2', 'production');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_nobody;
SELECT * FROM migrate_approval_check('production');
SELECT count(*) FROM pgmig.approvals;
RESET SESSION AUTHORIZATION;

SELECT version, environment, approved_by, length(checksum) AS checksum_length FROM pgmig.approvals ORDER BY id;

DROP EXTENSION pgmig;
DROP TABLE accounts;
REVOKE CREATE ON SCHEMA public FROM regress_alice;
DROP ROLE regress_alice, regress_bob, regress_reader, regress_nobody;
