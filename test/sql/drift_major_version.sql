-- Snapshots record the PostgreSQL major version they were taken on; migrate_drift() does not compare
-- a schema recorded on another major version (after pg_upgrade) and says so, and
-- migrate_record_major_upgrade() records the live schema on the new version (only then).
CREATE EXTENSION pgmig;
\set VERBOSITY terse
SELECT migrate_register('1', 'first', 'CREATE TABLE first_table (id int)') IS NOT NULL AS registered;
SELECT count(*) FROM migrate_apply();
SELECT reason, server_major = current_setting('server_version_num')::int / 10000 AS this_major
  FROM pgmig.snapshots ORDER BY id;

-- On the major version the schema was recorded on, recording it again would hide drift: refused
-- (PM007; the message names the version).
\set VERBOSITY sqlstate
SELECT migrate_record_major_upgrade();
\set VERBOSITY terse
CREATE TABLE out_of_band (id int);
SELECT object_type, identity, change FROM migrate_drift();

-- As after pg_upgrade from 14: no object is compared, one row says why and what to run.
UPDATE pgmig.snapshots SET server_major = 14 WHERE id = (SELECT max(id) FROM pgmig.snapshots);
SELECT object_type, identity = 'PostgreSQL ' || current_setting('server_version_num')::int / 10000 AS this_server,
       change, detail LIKE 'the expected schema was recorded on PostgreSQL 14 and this server runs %' AS says_both,
       detail LIKE '%SELECT migrate_record_major_upgrade()%' AS says_what_to_run, changed_at, changed_by
  FROM migrate_drift();
SELECT count(*) AS rows_without_column_order FROM migrate_drift(true);

-- Only pgmig_admin may record it.
CREATE ROLE regress_major_reader IN ROLE pgmig_reader;
SET ROLE regress_major_reader;
SELECT migrate_record_major_upgrade();
RESET ROLE;
DROP ROLE regress_major_reader;

SELECT regexp_replace(migrate_record_major_upgrade(), '[0-9]+', 'N', 'g') AS recorded;
SELECT reason, server_major = current_setting('server_version_num')::int / 10000 AS this_major
  FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
-- The live schema (the out-of-band table included) is now the expected one.
SELECT count(*) AS drift FROM migrate_drift();

-- A snapshot of pgmig 0.1.0 (no major version) counts as taken on 15.
UPDATE pgmig.snapshots SET server_major = NULL WHERE id = (SELECT max(id) FROM pgmig.snapshots);
SELECT (count(*) = 0) = (current_setting('server_version_num')::int / 10000 = 15) AS null_means_15
  FROM migrate_drift() WHERE change = 'major version';
DROP EXTENSION pgmig;
DROP TABLE first_table, out_of_band;
