-- (No DEFAULT on the argument: migrate_drift() with no argument is the form below, unambiguous.)
CREATE FUNCTION migrate_drift(ignore_column_order boolean)
    RETURNS TABLE (object_type text, identity text, change text, detail text, changed_at timestamptz,
                   changed_by name, statement text, audit_id bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
    AS $$
    WITH expected AS (
        SELECT id, taken_at, audit_id FROM pgmig.snapshots ORDER BY id DESC LIMIT 1
    ), majors AS (      -- the major version of the expected snapshot and of this server
        SELECT coalesce((SELECT server_major FROM pgmig.snapshots ORDER BY id DESC LIMIT 1), 15) AS expected,
               current_setting('server_version_num')::int / 10000 AS live
    ), live AS (
        SELECT object_key, object_type, identity,
               CASE WHEN ignore_column_order THEN pgmig.without_column_order(description) ELSE description END
                   AS description
          FROM pgmig.snapshot_objects()
    ), base AS (
        SELECT e.object_key,
               CASE WHEN ignore_column_order THEN pgmig.without_column_order(e.description) ELSE e.description END
                   AS description
          FROM pgmig.expected_schema() e
    ), diff AS (
        SELECT coalesce(l.object_key, b.object_key) AS object_key,
               CASE WHEN b.object_key IS NULL THEN 'added' WHEN l.object_key IS NULL THEN 'removed'
                    ELSE 'changed' END AS change,
               (SELECT string_agg(k, ', ' ORDER BY k)
                  FROM (SELECT key AS k FROM jsonb_each(coalesce(l.description, '{}'))
                        UNION SELECT key FROM jsonb_each(coalesce(b.description, '{}'))) keys
                 WHERE l.description -> k IS DISTINCT FROM b.description -> k) AS detail
          FROM live l FULL JOIN base b ON b.object_key = l.object_key
         WHERE l.description IS DISTINCT FROM b.description
    ), explained AS (   -- the latest out-of-band audit row of each object changed since the snapshot
        -- Only rows after the snapshot's newest audit row can have been written after it was taken (a row's
        -- time is read before its id is taken, and ids are taken in order), so the trail is read from there
        -- through its primary key, never whole: the subquery's ORDER BY keeps the plan on it.
        SELECT DISTINCT ON (au.object_identity) au.object_identity, au.id, au.at, au.current_user_name, au.statement
          FROM expected x,
               LATERAL (SELECT a.object_identity, a.id, a.at, a.current_user_name, a.statement, a.migration_version
                          FROM pgmig.ddl_audit a
                         WHERE a.id > coalesce(x.audit_id, 0) ORDER BY a.id) au
         WHERE au.at > x.taken_at AND au.migration_version IS NULL AND au.object_identity IS NOT NULL
         ORDER BY au.object_identity, au.id DESC
    )
    -- A key is "<type> <identity>" and some types have spaces ("materialized view public.m"): the type is the
    -- longest of pg_identify_object's multi-word types the key starts with, else its first word.
    SELECT r.object_type, r.identity, r.change, r.detail, r.changed_at, r.changed_by, r.statement, r.audit_id
      FROM (
    SELECT d.object_key, d.object_type, d.identity, d.change, d.detail, a.at AS changed_at,
           a.current_user_name AS changed_by, a.statement, a.id AS audit_id
      FROM (SELECT diff.*, t.object_type, substr(diff.object_key, length(t.object_type) + 2) AS identity
              FROM diff, LATERAL (
                  SELECT coalesce((SELECT m FROM unnest(ARRAY['materialized view', 'foreign table', 'composite type',
                                                               'table constraint', 'domain constraint',
                                                               'table column', 'view column', 'default value',
                                                               'operator class', 'operator family', 'access method',
                                                               'event trigger', 'statistics object', 'text search parser',
                                                               'text search dictionary', 'text search template',
                                                               'text search configuration', 'foreign-data wrapper',
                                                               'user mapping', 'default acl', 'large object']) m
                                    WHERE diff.object_key LIKE m || ' %' ORDER BY length(m) DESC LIMIT 1),
                                  split_part(diff.object_key, ' ', 1)) AS object_type) t) d
      LEFT JOIN explained a ON a.object_identity = d.identity
     WHERE (SELECT expected = live FROM majors)
    UNION ALL
    -- Taken on another major version (pg_upgrade, or a dump restored into a newer server): its catalogs
    -- describe the same objects differently, so the comparison above would report drift that is not.
    SELECT '', 'server', 'PostgreSQL ' || m.live, 'major version',
           format('the expected schema was recorded on PostgreSQL %s and this server runs %s: schemas of different '
                  'major versions are not compared; check the schema, then record it as expected on %s with '
                  'SELECT migrate_record_major_upgrade() (pgmig_admin)',
                  m.expected, m.live, m.live),
           NULL, NULL, NULL, NULL
      FROM majors m
     WHERE m.expected <> m.live
    ) r
     ORDER BY r.object_key
    $$;
COMMENT ON FUNCTION migrate_drift(boolean) IS
    'migrate_drift(); with ignore_column_order, a table whose columns differ only in order is not drift';

CREATE FUNCTION migrate_drift()
    RETURNS TABLE (object_type text, identity text, change text, detail text, changed_at timestamptz,
                   changed_by name, statement text, audit_id bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    -- A standard SQL body, bound to migrate_drift(boolean) itself: it survives a rename of the
    -- extension's schema. One line: the update script's builder ends a statement at a line ending in ';'.
    BEGIN ATOMIC SELECT * FROM @extschema@.migrate_drift(false); END;
COMMENT ON FUNCTION migrate_drift() IS
    'differences between the live schema and the one the ledger expects, with who changed it, when and how';

CREATE FUNCTION migrate_record_major_upgrade() RETURNS text
    AS 'MODULE_PATHNAME', 'migrate_record_major_upgrade' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_record_major_upgrade() IS
    'after pg_upgrade to another major version: records the live schema as the expected one (refused on the same major version)';
REVOKE ALL ON FUNCTION migrate_record_major_upgrade() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_record_major_upgrade() TO pgmig_admin;

