-- pgmig's functions pass the checks of PostgreSQL's own catalog sanity test (opr_sanity) that apply
-- to an extension: an IMMUTABLE function is PARALLEL SAFE. SECURITY DEFINER functions are listed:
-- each is one on purpose (docs/security.md says why), and a new one must be added here knowingly.
CREATE EXTENSION pgmig;
CREATE VIEW pgmig_functions AS
    SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.prosecdef, p.proconfig
      FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
     WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgmig');

-- opr_sanity: "Check that all immutable functions are marked parallel safe".
SELECT function FROM pgmig_functions WHERE provolatile = 'i' AND proparallel = 'u' ORDER BY function::text;

-- opr_sanity lists every SECURITY DEFINER function. pgmig's, each with its search_path pinned.
SELECT function, proconfig FROM pgmig_functions WHERE prosecdef ORDER BY function::text;

DROP VIEW pgmig_functions;
DROP EXTENSION pgmig;
