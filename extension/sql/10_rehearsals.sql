-- ==== dry run and rollback tests ====
-- What the rehearsals (migrate_plan, migrate_apply(dry_run => true), migrate_test) measure: the
-- objects of the user schema by key (from pgmig.snapshot_objects, the one catalog reader), and the
-- differences between two such maps.
CREATE FUNCTION pgmig.object_map() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(jsonb_object_agg(object_key, jsonb_build_object('type', object_type, 'identity', identity,
                                                                    'description', description)), '{}'::jsonb)
      FROM pgmig.snapshot_objects()
    $$;
COMMENT ON FUNCTION pgmig.object_map() IS 'the user schema''s objects by key, with type, identity and description';

-- added: in `after` only; removed: in `before` only; changed: in both, with the description keys
-- that differ (columns, acl, definition, ...).
CREATE FUNCTION pgmig.object_diff(before jsonb, after jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH d AS (
        SELECT coalesce(a.key, b.key) AS key,
               CASE WHEN b.key IS NULL THEN 'added' WHEN a.key IS NULL THEN 'removed' ELSE 'changed' END AS change,
               coalesce(a.value, b.value) AS obj,
               (SELECT jsonb_agg(k ORDER BY k)
                  FROM (SELECT key AS k FROM jsonb_each(coalesce(a.value -> 'description', '{}'))
                        UNION SELECT key FROM jsonb_each(coalesce(b.value -> 'description', '{}'))) keys
                 WHERE a.value -> 'description' -> k IS DISTINCT FROM b.value -> 'description' -> k) AS keys
          FROM jsonb_each(after) a FULL JOIN jsonb_each(before) b ON b.key = a.key
         WHERE a.value IS DISTINCT FROM b.value
    )
    SELECT jsonb_build_object(
        'added', coalesce((SELECT jsonb_agg(jsonb_build_object('type', obj ->> 'type', 'identity', obj ->> 'identity')
                                            ORDER BY key) FROM d WHERE change = 'added'), '[]'),
        'removed', coalesce((SELECT jsonb_agg(jsonb_build_object('type', obj ->> 'type', 'identity', obj ->> 'identity')
                                              ORDER BY key) FROM d WHERE change = 'removed'), '[]'),
        'changed', coalesce((SELECT jsonb_agg(jsonb_build_object('type', obj ->> 'type', 'identity', obj ->> 'identity',
                                                                 'keys', keys) ORDER BY key)
                               FROM d WHERE change = 'changed'), '[]'))
    $$;
COMMENT ON FUNCTION pgmig.object_diff(jsonb, jsonb) IS
    'objects added, removed and changed (with the differing keys) between two pgmig.object_map() results';

-- The state a dry run compares before and after each migration: the user relations (name, kind,
-- relfilenode, this transaction's tuple counters), the relation locks this backend holds, and the
-- object map.
CREATE FUNCTION pgmig.rehearsal_state() RETURNS jsonb
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT jsonb_build_object(
        'relations', (SELECT coalesce(jsonb_object_agg(c.oid::text, jsonb_build_object(
                                 'name', format('%I.%I', n.nspname, c.relname), 'kind', c.relkind,
                                 'filenode', c.relfilenode,
                                 'ins', pg_stat_get_xact_tuples_inserted(c.oid),
                                 'upd', pg_stat_get_xact_tuples_updated(c.oid),
                                 'del', pg_stat_get_xact_tuples_deleted(c.oid),
                                 -- the columns of a table or materialized view: what a rollback's rehearsal drops
                                 'cols', CASE WHEN c.relkind IN ('r', 'p', 'm') THEN
                                     (SELECT jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END)), '{}')
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig')
                         AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'),
        'locks', (SELECT coalesce(jsonb_agg(DISTINCT l.relation::oid::text || ' ' || l.mode), '[]')
                    FROM pg_locks l
                   WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
                     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())),
        'objects', pgmig.object_map())
    $$;
COMMENT ON FUNCTION pgmig.rehearsal_state() IS 'what a dry run compares before and after each migration';

-- What happened since `before` (a rehearsal_state()): new relation locks on relations that existed
-- before (locks on relations the migration created block nobody), tables whose relfilenode changed
-- (rewritten, or truncated), rows inserted/updated/deleted per table, the catalog diff, and what was
-- dropped that held data (tables, materialized views, columns by their table's OID; schemas).
CREATE FUNCTION pgmig.rehearsal_effects(before jsonb) RETURNS jsonb
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH now AS (SELECT pgmig.rehearsal_state() AS s),
    rels AS (
        SELECT r.key AS oid, r.value AS after, before -> 'relations' -> r.key AS before
          FROM now, jsonb_each(now.s -> 'relations') r
    ),
    touched AS (
        SELECT coalesce(after ->> 'name', before ->> 'name') AS name,
               (after ->> 'ins')::bigint - coalesce((before ->> 'ins')::bigint, 0) AS ins,
               (after ->> 'upd')::bigint - coalesce((before ->> 'upd')::bigint, 0) AS upd,
               (after ->> 'del')::bigint - coalesce((before ->> 'del')::bigint, 0) AS del
          FROM rels WHERE after ->> 'kind' IN ('r', 'm', 'p')
    )
    SELECT jsonb_build_object(
        'locks', (SELECT coalesce(jsonb_agg(jsonb_build_object('relation', before -> 'relations' -> split_part(l, ' ', 1) ->> 'name',
                                                               'mode', split_part(l, ' ', 2)) ORDER BY l), '[]')
                    FROM now, jsonb_array_elements_text(now.s -> 'locks') l
                   WHERE before -> 'relations' ? split_part(l, ' ', 1) AND NOT before -> 'locks' ? l),
        'rewritten', (SELECT coalesce(jsonb_agg(jsonb_build_object('table', before ->> 'name',
                                                                   'relfilenode_before', (before ->> 'filenode')::bigint,
                                                                   'relfilenode_after', (after ->> 'filenode')::bigint)
                                                ORDER BY before ->> 'name'), '[]')
                        FROM rels
                       WHERE before IS NOT NULL AND after ->> 'kind' IN ('r', 'm')
                         AND after -> 'filenode' IS DISTINCT FROM before -> 'filenode'),
        'rows', (SELECT jsonb_build_object(
                     'inserted', coalesce(sum(ins), 0), 'updated', coalesce(sum(upd), 0),
                     'deleted', coalesce(sum(del), 0),
                     'tables', coalesce(jsonb_agg(jsonb_build_object('table', name, 'inserted', ins, 'updated', upd,
                                                                     'deleted', del) ORDER BY name)
                                        FILTER (WHERE ins + upd + del > 0), '[]'))
                   FROM touched),
        'catalog_diff', pgmig.object_diff(before -> 'objects', now.s -> 'objects'),
        'dropped', (SELECT coalesce(jsonb_agg(d.o ORDER BY d.o ->> 'identity', d.o ->> 'type'), '[]') FROM (
                       SELECT jsonb_build_object('type', CASE r.value ->> 'kind' WHEN 'm' THEN 'materialized view'
                                                                               ELSE 'table' END,
                                                 'identity', r.value ->> 'name', 'relation', r.key::bigint) AS o
                         FROM jsonb_each(before -> 'relations') r
                        WHERE r.value ->> 'kind' IN ('r', 'p', 'm') AND NOT (now.s -> 'relations') ? r.key
                       UNION ALL
                       SELECT jsonb_build_object('type', 'column', 'identity', (r.value ->> 'name') || '.' || quote_ident(col),
                                                 'relation', r.key::bigint)
                         FROM jsonb_each(before -> 'relations') r,
                              jsonb_array_elements_text(CASE jsonb_typeof(r.value -> 'cols') WHEN 'array'
                                                        THEN r.value -> 'cols' ELSE '[]' END) col
                        WHERE (now.s -> 'relations') ? r.key
                          AND NOT (now.s -> 'relations' -> r.key -> 'cols') ? col
                       UNION ALL
                       SELECT jsonb_build_object('type', 'schema', 'identity', o.value ->> 'identity')
                         FROM jsonb_each(before -> 'objects') o
                        WHERE o.value ->> 'type' = 'schema' AND NOT (now.s -> 'objects') ? o.key) d))
      FROM now
    $$;
COMMENT ON FUNCTION pgmig.rehearsal_effects(jsonb) IS
    'locks taken, tables rewritten, rows touched and the catalog diff since a pgmig.rehearsal_state()';

-- The dry run: every pending migration (up to target) rehearsed in a subtransaction that is always
-- rolled back; one row per migration. Nothing persists (see docs/reference.md for the exact list).
CREATE FUNCTION migrate_plan(target text DEFAULT NULL, trust boolean DEFAULT false)
    RETURNS TABLE (version text, name text, rehearsable boolean, outcome text, reason text, statements integer,
                   duration interval, locks jsonb, rewritten jsonb, rows_touched bigint, catalog_diff jsonb,
                   lint jsonb, persisted boolean)
    AS 'MODULE_PATHNAME', 'migrate_plan'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_plan(text, boolean) IS
    'rehearses the pending migrations in a subtransaction that is always rolled back and reports their effects';

-- The rollback test of one pending migration: up, down, up again, each compared by fingerprint;
-- always rolled back.
CREATE FUNCTION migrate_test(version text, trust boolean DEFAULT false)
    RETURNS TABLE (step integer, check_name text, passed boolean, detail text, differing jsonb)
    AS 'MODULE_PATHNAME', 'migrate_test'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_test(text, boolean) IS
    'runs up, down and up again of a pending migration and checks that down restores the exact schema; leaves nothing behind';

-- The rollback test of one pending migration that applies it when every check passed: the test's last run
-- of up is kept as the apply where it can be (see docs/reference.md).
CREATE FUNCTION migrate_apply_tested(version text, trust boolean DEFAULT false)
    RETURNS TABLE (step integer, check_name text, passed boolean, detail text, differing jsonb)
    AS 'MODULE_PATHNAME', 'migrate_apply_tested'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_apply_tested(text, boolean) IS
    'migrate_test(), then the migration applied if every check passed (step 6, applied); else nothing persists';

REVOKE ALL ON FUNCTION migrate_apply_tested(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_apply_tested(text, boolean) TO pgmig_admin;
REVOKE ALL ON FUNCTION migrate_plan(text, boolean), migrate_test(text, boolean), pgmig.rehearsal_state(),
    pgmig.rehearsal_effects(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_plan(text, boolean), migrate_test(text, boolean), pgmig.rehearsal_state(),
    pgmig.rehearsal_effects(jsonb) TO pgmig_admin;

