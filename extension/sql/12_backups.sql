-- ==== backups ====
-- pg_dump (and so pgmig backup) includes the ledger, its history and the schema snapshots, so that a restored
-- database knows which migrations it has. The DDL audit trail is not included: a restore's own DDL is audited
-- in the new database, whose chain starts afresh. The CREATE EXTENSION snapshot is made by the extension itself.
SELECT pg_catalog.pg_extension_config_dump('pgmig.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.history', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.snapshots', $$WHERE reason <> 'CREATE EXTENSION'$$);
SELECT pg_catalog.pg_extension_config_dump('pgmig.snapshots_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.expected_objects', '');
SELECT pg_catalog.pg_extension_config_dump('pgmig.expected_parts', '');
-- pg_dump reads the state of each marked sequence (SELECT last_value, is_called FROM ...): the role that takes
-- backups (a pgmig_admin member: pgmig deploy takes them) needs SELECT on them as it has on the tables. A
-- sequence's last value tells nothing that reading its table does not.
GRANT SELECT ON SEQUENCE pgmig.history_id_seq, pgmig.snapshots_id_seq TO pgmig_reader;
