-- A value returned by a pgmig function lives as long as the caller needs it: it is never left in
-- memory that the function's own SPI connection frees when the function returns.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- Two calls in one row: each result is its own checksum (a result left in SPI's freed memory
-- would be overwritten by the second call, and both columns would show the same value).
SELECT migrate_register('6', 'c', 'SELECT 3') = pgmig.script_checksum('SELECT 3') AS r1_is_its_checksum,
       migrate_register('7', 'd', 'SELECT 4') = pgmig.script_checksum('SELECT 4') AS r2_is_its_checksum;
SELECT migrate_register('8', 'e', 'SELECT 5') AS r1, migrate_register('9', 'f', 'SELECT 6') AS r2 \gset
SELECT :'r1' = pgmig.script_checksum('SELECT 5') AS r1_ok, :'r2' = pgmig.script_checksum('SELECT 6') AS r2_ok,
       :'r1' <> :'r2' AS different;

-- The same for migrate_repair (which returns the accepted checksum).
SELECT migrate_repair('6', 'SELECT 30') AS r1, migrate_repair('7', 'SELECT 40') AS r2 \gset
SELECT :'r1' = pgmig.script_checksum('SELECT 30') AS repair1_ok, :'r2' = pgmig.script_checksum('SELECT 40') AS repair2_ok;

-- And for pgmig.migration_key (bytea) next to a call that uses SPI.
SELECT migrate_register('10', 'g', 'SELECT 7') AS r1, pgmig.migration_key('10', NULL) AS k1,
       migrate_register('11', 'h', 'SELECT 8') AS r2 \gset
SELECT :'r1' = pgmig.script_checksum('SELECT 7') AS register_ok, :'k1' = pgmig.migration_key('10', NULL)::text AS key_ok;

DROP EXTENSION pgmig;
