-- What pg_dump (and so pgmig backup) takes of the extension's tables: the ledger, its history, the
-- schema snapshots (all but the one CREATE EXTENSION takes itself) and the expected schema object by
-- object, with the identity sequences; not the
-- DDL audit trail (a restore's own DDL is audited afresh in the new database).
CREATE EXTENSION pgmig;
SELECT c::regclass AS dumped, coalesce(nullif(e.extcondition[i], ''), '(all rows)') AS rows
  FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS u(c, i)
 WHERE e.extname = 'pgmig'
 ORDER BY c::regclass::text;
DROP EXTENSION pgmig;
