-- Cached plans follow the schema's growth: a plan is made for the sizes the catalogs had when it was
-- made, and PostgreSQL keeps it while they grow (it remakes a plan when a table changes definition or
-- is analyzed). The ledger's functions remake the session's plans once the catalogs have doubled, so a
-- long session (pgmig test, a long deploy) does not keep looking OIDs up with the sequential scans
-- planned for an empty database. Seen from a prepared statement of the same session: its cached plan
-- states how many rows of pg_attribute it was planned for.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE DATABASE regress_pgmig_plans;
\c regress_pgmig_plans
SET client_min_messages = warning;
CREATE EXTENSION pgmig;
-- the first call of the session measures the catalogs
SELECT count(*) AS applied FROM migrate_apply();
PREPARE attributes AS SELECT 1 FROM pg_catalog.pg_attribute;
CREATE FUNCTION planned_rows() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) EXECUTE attributes' INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;
SELECT planned_rows() AS before \gset
-- the catalogs grow to more than twice their pages, one small transaction at a time as migrations do
-- (a single transaction creating as much sends so many invalidations that PostgreSQL drops every plan)
SELECT pg_relation_size('pg_class') + pg_relation_size('pg_attribute') + pg_relation_size('pg_depend')
    AS pages_at_start \gset
\set ECHO none
SELECT format('CREATE TABLE wide_%s (%s)', n, (SELECT string_agg(format('c%s int', i), ', ')
                                                 FROM generate_series(1, 60) i))
  FROM generate_series(1, 150) n \gexec
\set ECHO all
SELECT pg_relation_size('pg_class') + pg_relation_size('pg_attribute') + pg_relation_size('pg_depend')
       > 2 * :pages_at_start AS grown_past_twice;
SELECT planned_rows() = :before AS plan_kept_while_growing;
-- the next ledger call remakes the session's plans: the prepared statement's too
SELECT count(*) AS applied FROM migrate_apply();
SELECT planned_rows() > 2 * :before AS replanned_for_the_grown_catalog;
DEALLOCATE attributes;
\c contrib_regression
DROP DATABASE regress_pgmig_plans;
