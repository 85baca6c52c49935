-- Drift rows name the object as pg_identify_object does, multi-word types included (a materialized view is
-- object_type 'materialized view', identity 'public.m'), and carry who changed it and when from the audit
-- trail: out-of-band CREATE, GRANT and REVOKE alike.
\set SHOW_CONTEXT never
CREATE DATABASE regress_pgmig_drift_attribution;
\c regress_pgmig_drift_attribution
CREATE EXTENSION pgmig;
CREATE ROLE regress_drift_grantee;
SELECT count(migrate_register('1', 'base', 'CREATE TABLE t (id int); CREATE MATERIALIZED VIEW m AS SELECT id FROM t; '
                                          'CREATE TABLE r (id int);')) AS registered;
SELECT version, action FROM migrate_apply();

-- Out of band: a new materialized view, a changed one, a GRANT and a REVOKE.
CREATE MATERIALIZED VIEW m2 AS SELECT id FROM t;
COMMENT ON MATERIALIZED VIEW m IS 'changed out of band';
GRANT SELECT ON t TO regress_drift_grantee;
REVOKE ALL ON r FROM PUBLIC;
REVOKE SELECT ON r FROM CURRENT_USER;
SELECT object_type, identity, change, detail, changed_by = current_user AS by_me, changed_at IS NOT NULL AS dated
  FROM migrate_drift();

\c contrib_regression
DROP DATABASE regress_pgmig_drift_attribution;
DROP ROLE regress_drift_grantee;
