-- pgmig.require_approval (with pgmig.environment): migrate_apply() and the non-transactional path refuse,
-- after the ledger lock, any migration (repeatable ones included) that lacks that many approvals of its
-- current checksum, for the environment, by distinct roles other than its registrant. Only a superuser
-- can change the setting; a caller can only add to it.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
SELECT current_user AS su \gset
SELECT current_database() AS db \gset
CREATE ROLE regress_author LOGIN IN ROLE pgmig_admin, pgmig_approver;
CREATE ROLE regress_other LOGIN IN ROLE pgmig_admin;
CREATE ROLE regress_rev1 LOGIN IN ROLE pgmig_approver;
CREATE ROLE regress_rev2 LOGIN IN ROLE pgmig_approver;
GRANT CREATE ON SCHEMA public TO regress_author;
ALTER DATABASE :"db" SET pgmig.require_approval = 2;
ALTER DATABASE :"db" SET pgmig.environment = 'production';

\c - regress_author
\set SHOW_CONTEXT never
-- A pgmig_admin can relax it neither for its session nor for its role.
SELECT pgmig.script_checksum('load the library') IS NOT NULL AS loaded;
SHOW pgmig.require_approval;
SHOW pgmig.environment;
SET pgmig.require_approval = 0;
SELECT set_config('pgmig.require_approval', '0', true);
SET pgmig.environment = 'sandbox';
ALTER ROLE regress_author SET pgmig.require_approval = 0;
SHOW pgmig.require_approval;

SELECT migrate_register('1', 'appr_one', 'CREATE TABLE appr_one (id int);') IS NOT NULL AS registered;
SELECT migrate_register(NULL, 'appr_views', 'CREATE OR REPLACE VIEW appr_view AS SELECT 1 AS one;',
                        options => '{"repeatable": true}') IS NOT NULL AS registered;
-- Unapproved: refused.
SELECT version, name, action FROM migrate_apply();
-- Its author may not approve it.
SELECT approved_version, approved_by FROM migrate_approve('1', 'production');
-- A caller cannot lower the requirement, nor count another environment's approvals.
SELECT version, name, action FROM migrate_apply(require_approvals => 0);
SELECT version, name, action FROM migrate_apply(environment => 'staging');

-- One reviewer, twice, and another one for staging only: still one approval for production.
\c - regress_rev1
\set SHOW_CONTEXT never
SELECT approved_version, approved_for, approved_by FROM migrate_approve('1', 'production');
SELECT approved_version, approved_for, approved_by FROM migrate_approve('1', 'production');
\c - regress_rev2
\set SHOW_CONTEXT never
SELECT approved_version, approved_for, approved_by FROM migrate_approve('1', 'staging');
\c - regress_author
\set SHOW_CONTEXT never
SELECT version, name, action FROM migrate_apply();
-- A second distinct reviewer: migration 1 passes, the repeatable migration does not.
\c - regress_rev2
\set SHOW_CONTEXT never
SELECT approved_version, approved_for, approved_by FROM migrate_approve('1', 'production');
\c - regress_author
\set SHOW_CONTEXT never
SELECT version, name, action FROM migrate_apply();
SELECT version, name, status, approvers, registrant, required_approvals FROM migrate_approval_check('production');
-- Repeatable migrations are approved by name.
\c - regress_rev1
\set SHOW_CONTEXT never
SELECT approved_version, approved_name, approved_by FROM migrate_approve(NULL, 'production', name => 'appr_views');
\c - regress_rev2
\set SHOW_CONTEXT never
SELECT approved_version, approved_name, approved_by FROM migrate_approve(NULL, 'production', name => 'appr_views');
\c - regress_author
\set SHOW_CONTEXT never
SELECT version, name, action FROM migrate_apply();

-- A stale checksum: the repeatable migration changes after its approvals, which then stop counting.
SELECT migrate_register(NULL, 'appr_views', 'CREATE OR REPLACE VIEW appr_view AS SELECT 2 AS one;',
                        options => '{"repeatable": true}') IS NOT NULL AS registered;
SELECT version, name, action FROM migrate_apply();
SELECT version, name, status, detail FROM migrate_approval_check('production');

-- Self-approval ahead of registration does not count either, nor after another role registers the same
-- script again: the author stays the registrant.
SELECT approved_version, approved_by
  FROM migrate_approve('2', 'production', pgmig.script_checksum('CREATE TABLE appr_two (id int);'), 'appr_two');
SELECT migrate_register('2', 'appr_two', 'CREATE TABLE appr_two (id int);') IS NOT NULL AS registered;
\c - regress_other
\set SHOW_CONTEXT never
SELECT migrate_register('2', 'appr_two', 'CREATE TABLE appr_two (id int);') IS NOT NULL AS registered;
\c - regress_rev1
\set SHOW_CONTEXT never
SELECT approved_version, approved_by FROM migrate_approve('2', 'production');
\c - regress_author
\set SHOW_CONTEXT never
SELECT version, name, status, approvers, registrant FROM migrate_approval_check('production') WHERE version = '2';
SELECT version, name, action FROM migrate_apply('2');
SELECT version, registered_by, vouched_by FROM pgmig.migrations WHERE version = '2';

-- The non-transactional path is held to the same rule.
SELECT migrate_register('3', 'appr_three', 'CREATE TABLE appr_three (id int);',
                        options => '{"transactional": false}') IS NOT NULL AS registered;
SELECT pg_advisory_lock(482771560807);
SELECT migrate_nontx_begin('3');
SELECT pg_advisory_unlock(482771560807);

-- Without pgmig.environment nobody can say whose approvals count: refused until the caller names it.
\c - :su
\set SHOW_CONTEXT never
ALTER DATABASE :"db" RESET pgmig.environment;
\c - regress_author
\set SHOW_CONTEXT never
SELECT version, name, action FROM migrate_apply('1');
SELECT version, name, action FROM migrate_apply('1', environment => 'production');
-- Without the setting, a caller (pgmig apply --env production) can still require approvals for its own call.
\c - :su
\set SHOW_CONTEXT never
ALTER DATABASE :"db" RESET pgmig.require_approval;
\c - regress_author
\set SHOW_CONTEXT never
SELECT version, name, action FROM migrate_apply('2', require_approvals => 2, environment => 'production');
SELECT version, name, action FROM migrate_apply('2', require_approvals => 1, environment => 'production');
SELECT version, name, action FROM migrate_apply('2');
\c - :su

DROP EXTENSION pgmig;
DROP TABLE appr_one, appr_two;
DROP VIEW appr_view;
REVOKE CREATE ON SCHEMA public FROM regress_author;
ALTER ROLE regress_author RESET ALL;
DROP ROLE regress_author, regress_other, regress_rev1, regress_rev2;
