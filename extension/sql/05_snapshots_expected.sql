-- The expected schema (the baseline of drift): read, recorded whole, derived from a change, compared.

-- The schema the ledger expects, object by object: the newest snapshot's document where it has one,
-- else pgmig.expected_objects.
CREATE FUNCTION pgmig.expected_schema() RETURNS TABLE (object_key text, description jsonb)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH newest AS (SELECT snapshot FROM pgmig.snapshots ORDER BY id DESC LIMIT 1)
    SELECT e.key, e.value FROM newest n, jsonb_each(n.snapshot) e
    UNION ALL
    SELECT o.object_key, o.description FROM pgmig.expected_objects o
     WHERE (SELECT n.snapshot IS NULL FROM newest n)
    $$;
COMMENT ON FUNCTION pgmig.expected_schema() IS 'the schema the ledger expects, one row per object';

CREATE FUNCTION migrate_expected_snapshot() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT coalesce(jsonb_object_agg(object_key, description), '{}'::jsonb) FROM pgmig.expected_schema() $$;
COMMENT ON FUNCTION migrate_expected_snapshot() IS
    'the schema the ledger expects, as migrate_snapshot() would describe it: compare the two for drift';

CREATE FUNCTION migrate_expected_fingerprint() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    -- A standard SQL body: the call is bound to the function when this is created, so it survives
    -- ALTER SCHEMA ... RENAME of the extension's schema (a string body names it as it was called then).
    RETURN encode(sha256(convert_to(@extschema@.migrate_expected_snapshot()::text, 'UTF8')), 'hex');
COMMENT ON FUNCTION migrate_expected_fingerprint() IS
    'SHA-256 of migrate_expected_snapshot(): equals migrate_fingerprint() when there is no drift';

-- The roles' OIDs and names, hashed: roles are shared by every database, may be renamed from any of
-- them without an audit row here, and their names are written into owners and privileges.
CREATE FUNCTION pgmig.role_names() RETURNS text
    -- PL/pgSQL, not SQL: its plan is kept for the session (a SQL function with a SET clause is planned
    -- again on every call: 0.06 against 0.015 ms, twice per apply)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- (SHA-256, not md5(): a server whose OpenSSL runs in FIPS mode refuses MD5)
    AS $$
BEGIN
    RETURN (SELECT encode(sha256(convert_to(coalesce(string_agg(oid::text || ' ' || rolname, ',' ORDER BY oid), ''),
                                            'UTF8')), 'hex')
              FROM pg_catalog.pg_roles);
END
$$;
COMMENT ON FUNCTION pgmig.role_names() IS 'a hash of every role''s OID and name';

-- Why the next snapshot cannot be derived from the newest one and the objects a change touched (NULL:
-- it can). `database` is this database's identity (system identifier/OID) as the library computes it.
CREATE FUNCTION pgmig.snapshot_underivable(database text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    newest record;
BEGIN
    SELECT s.snapshot IS NULL AS kept, s.database_identity, s.server_major, s.roles, s.audit_id INTO newest
      FROM pgmig.snapshots s ORDER BY s.id DESC LIMIT 1;
    IF NOT FOUND OR NOT newest.kept OR newest.database_identity IS NULL THEN
        RETURN 'the newest snapshot was taken by CREATE EXTENSION or by pgmig 0.1.0';
    ELSIF newest.database_identity <> database THEN
        RETURN 'the expected schema was recorded in another database (restored or copied here)';
    ELSIF newest.server_major IS DISTINCT FROM current_setting('server_version_num')::int / 10000 THEN
        RETURN 'the expected schema was recorded on another major version';
    ELSIF newest.roles IS DISTINCT FROM pgmig.role_names() THEN
        RETURN 'roles were created, renamed or dropped since the newest snapshot';
    -- The rows since that snapshot, in id order: the ORDER BY keeps the planner on the primary key. Left
    -- to itself it scanned the whole trail for the first out-of-band row (an EXISTS, costed as if such rows
    -- were spread evenly over the table), which is never there when the snapshot can be derived.
    ELSIF EXISTS (SELECT 1
                    FROM (SELECT a.migration_version FROM pgmig.ddl_audit a
                           WHERE a.id OPERATOR(pg_catalog.>) newest.audit_id ORDER BY a.id) since
                   WHERE since.migration_version IS NULL) THEN
        RETURN 'DDL ran outside migrations since the newest snapshot';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION pgmig.snapshot_underivable(text) IS
    'why the next snapshot must describe the whole schema; NULL when it can be derived from the newest one';

-- The whole schema becomes the expected one. Streams: the objects are described into a tuplestore
-- (spilled to disk beyond work_mem), never into one document.
CREATE FUNCTION pgmig.expect_whole_schema() RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    described integer;
BEGIN
    DELETE FROM pgmig.expected_parts;
    DELETE FROM pgmig.expected_objects;
    WITH live AS MATERIALIZED (SELECT * FROM pgmig.snapshot_objects_among(NULL)),
         objects AS (INSERT INTO pgmig.expected_objects (object_key, classid, objid, description)
                     SELECT l.object_key, l.classid, l.objid, l.description FROM live l RETURNING 1),
         parts AS (INSERT INTO pgmig.expected_parts (classid, objid, object_key)
                   SELECT p.part_classid, p.part_objid, l.object_key
                     FROM pgmig.snapshot_parts((SELECT array_agg(classid) FROM live),
                                               (SELECT array_agg(objid) FROM live)) p
                     JOIN live l ON l.classid = p.classid AND l.objid = p.objid
                   ON CONFLICT DO NOTHING)
    SELECT count(*) INTO described FROM objects;
    RETURN described;
END
$$;
COMMENT ON FUNCTION pgmig.expect_whole_schema() IS
    'records the whole live schema as the expected one (pgmig.expected_objects); returns the number of objects';

-- What a change that touched the given objects may have changed, as pgmig.snapshot_scope() gives it: the
-- touched objects, the expected objects they were part of (a dropped default's table: the drop reports only
-- the default), and everything that depends on them now; one row, two arrays in the same order.
CREATE FUNCTION pgmig.change_scope(classids oid[], objids oid[])
    RETURNS TABLE (scope_classids oid[], scope_objids oid[])
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    WITH touched AS (SELECT * FROM unnest(classids, objids) AS t(classid, objid)),
         seeds AS (SELECT t.classid, t.objid FROM touched t
                   UNION
                   SELECT e.classid, e.objid
                     FROM touched t
                     JOIN pgmig.expected_parts p ON p.classid = t.classid AND p.objid = t.objid
                     JOIN pgmig.expected_objects e ON e.object_key = p.object_key)
    SELECT coalesce(array_agg(s.classid), '{}'), coalesce(array_agg(s.objid), '{}')
      FROM pgmig.snapshot_scope((SELECT array_agg(classid) FROM seeds), (SELECT array_agg(objid) FROM seeds)) s
    $$;
COMMENT ON FUNCTION pgmig.change_scope(oid[], oid[]) IS
    'what a change that touched the given objects may have changed: them, the expected objects they were part of, their dependents';

-- The expected schema after a change that touched the given objects: what it said of them, of the
-- expected objects they were part of (a dropped default's table: the drop reports only the default)
-- and of everything that depends on them now, replaced by their descriptions as they are now.
CREATE FUNCTION pgmig.expect_changes(classids oid[], objids oid[]) RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    scope_classids oid[];
    scope_objids oid[];
    old_keys text[];
    described integer;
BEGIN
    SELECT * INTO scope_classids, scope_objids FROM pgmig.change_scope(classids, objids);

    -- (as an array: the deletes below then find the rows by index)
    SELECT coalesce(array_agg(DISTINCT p.object_key), '{}') INTO old_keys
      FROM unnest(scope_classids, scope_objids) AS s(classid, objid)
      JOIN pgmig.expected_parts p ON p.classid = s.classid AND p.objid = s.objid;
    DELETE FROM pgmig.expected_parts p WHERE p.object_key = ANY (old_keys);
    DELETE FROM pgmig.expected_objects e WHERE e.object_key = ANY (old_keys);

    WITH live AS MATERIALIZED (SELECT l.* FROM pgmig.snapshot_described(scope_classids, scope_objids) l),
         objects AS (INSERT INTO pgmig.expected_objects (object_key, classid, objid, description)
                     SELECT l.object_key, l.classid, l.objid, l.description FROM live l
                     ON CONFLICT (object_key) DO UPDATE
                         SET classid = excluded.classid, objid = excluded.objid, description = excluded.description
                     RETURNING 1),
         parts AS (INSERT INTO pgmig.expected_parts (classid, objid, object_key)
                   SELECT p.part_classid, p.part_objid, l.object_key
                     FROM pgmig.snapshot_parts((SELECT array_agg(classid) FROM live),
                                               (SELECT array_agg(objid) FROM live)) p
                     JOIN live l ON l.classid = p.classid AND l.objid = p.objid
                   ON CONFLICT DO NOTHING)
    SELECT count(*) INTO described FROM objects;
    RETURN described;
END
$$;
COMMENT ON FUNCTION pgmig.expect_changes(oid[], oid[]) IS
    'updates the expected schema (pgmig.expected_objects) where a change touched the given objects; returns the number described';

-- Whether the live schema is what pgmig.expected_objects says wherever a change that touched the given
-- objects could have changed it: the objects pgmig.expect_changes() would describe again (what the
-- expected schema said of them and what depends on them now). Equal there, the expected schema is the
-- live one, as expect_changes() would leave it unchanged. The number of live objects compared, or NULL
-- when one differs. (migrate_apply_tested(): the schema before up, once up and down have run.)
CREATE FUNCTION pgmig.expected_unchanged(classids oid[], objids oid[]) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    scope_classids oid[];
    scope_objids oid[];
    differs boolean;
    compared integer;
BEGIN
    SELECT * INTO scope_classids, scope_objids FROM pgmig.change_scope(classids, objids);

    WITH live AS MATERIALIZED (SELECT l.object_key, l.description
                                 FROM pgmig.snapshot_described(scope_classids, scope_objids) l),
         old_keys AS (SELECT p.object_key
                        FROM unnest(scope_classids, scope_objids) AS s(classid, objid)
                        JOIN pgmig.expected_parts p ON p.classid = s.classid AND p.objid = s.objid
                      UNION
                      SELECT l.object_key FROM live l),
         expected AS (SELECT e.object_key, e.description FROM pgmig.expected_objects e
                       WHERE e.object_key IN (SELECT k.object_key FROM old_keys k))
    SELECT EXISTS (SELECT 1 FROM live l FULL JOIN expected e ON e.object_key = l.object_key
                    WHERE l.object_key IS NULL OR e.object_key IS NULL OR l.description <> e.description),
           (SELECT count(*) FROM live)
      INTO differs, compared;
    RETURN CASE WHEN differs THEN NULL ELSE compared END;
END
$$;
COMMENT ON FUNCTION pgmig.expected_unchanged(oid[], oid[]) IS
    'the number of live objects a change that touched the given objects could have changed, when they are as pgmig.expected_objects says; else NULL';
REVOKE ALL ON FUNCTION pgmig.snapshot_underivable(text), pgmig.expect_whole_schema(),
    pgmig.expect_changes(oid[], oid[]), pgmig.change_scope(oid[], oid[]), pgmig.expected_unchanged(oid[], oid[])
    FROM PUBLIC;

