-- A non-superuser backup: pg_dump reads the tables and sequences the extension marks for dumping
-- (pg_extension_config_dump), so pgmig_admin, whose members deploy and take the backups an environment with
-- backup = true requires, must be able to SELECT every one of them. pgmig_reader may not: pgmig.migrations
-- holds the scripts, and with them any secret a migration carries (readers see the redacted copies).
CREATE EXTENSION pgmig;
SELECT coalesce(string_agg(c::regclass::text, ', ' ORDER BY c::regclass::text), 'none') AS dumped_but_unreadable_by_admin
  FROM pg_extension e, unnest(e.extconfig) AS c
  JOIN pg_class k ON k.oid = c
 WHERE e.extname = 'pgmig'
   AND NOT CASE WHEN k.relkind = 'S' THEN has_sequence_privilege('pgmig_admin', c, 'SELECT')
                ELSE has_table_privilege('pgmig_admin', c, 'SELECT') END;
-- The same as a login role that is only a member of pgmig_admin: what pg_dump runs for each of them.
CREATE ROLE security_backup_deployer LOGIN IN ROLE pgmig_admin;
SET ROLE security_backup_deployer;
SELECT count(*) >= 0 AS history_seq_readable FROM (SELECT last_value, is_called FROM pgmig.history_id_seq) s;
SELECT count(*) >= 0 AS snapshots_seq_readable FROM (SELECT last_value, is_called FROM pgmig.snapshots_id_seq) s;
SELECT count(*) >= 0 AS scripts_readable FROM (SELECT up_sql, down_sql FROM pgmig.migrations) m;
RESET ROLE;
-- A reader's pg_dump of the ledger fails: it may not read the scripts.
CREATE ROLE security_backup_reader LOGIN IN ROLE pgmig_reader;
SET ROLE security_backup_reader;
SELECT has_column_privilege('pgmig.migrations', 'up_sql', 'SELECT') AS reader_reads_scripts,
       has_column_privilege('pgmig.migrations', 'up_sql_redacted', 'SELECT') AS reader_reads_redacted;
RESET ROLE;
DROP ROLE security_backup_reader;
DROP ROLE security_backup_deployer;
DROP EXTENSION pgmig;
