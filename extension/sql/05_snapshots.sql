-- ACL entries as sorted text, the owner written OWNER and the default ACL spelled out, so that
-- the same privileges compare equal whoever owns the object and however they were reached. A grant
-- made by another role than the owner (one holding the privilege WITH GRANT OPTION) says BY <grantor>.
CREATE FUNCTION pgmig.acl_list(acl aclitem[], owner oid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT coalesce(jsonb_agg(entry ORDER BY entry), '[]'::jsonb)
      FROM (SELECT CASE WHEN x.grantee = owner THEN 'OWNER' WHEN x.grantee = 0 THEN 'PUBLIC'
                        ELSE x.grantee::regrole::text END
                   || ':' || x.privilege_type
                   || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
                   || CASE WHEN x.grantor <> owner THEN ' BY ' || x.grantor::regrole::text ELSE '' END
                   AS entry
              FROM aclexplode(acl) x) e
    $$;
CREATE FUNCTION pgmig.acl_entries(acl aclitem[], owner oid, objtype "char") RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- the default, in whatever order GRANT and REVOKE left the items: nothing to say (an empty array, as
    -- REVOKE leaves a column's ACL, is the default of a column)
    SELECT CASE WHEN acl IS NULL
                  OR coalesce((SELECT array_agg(a::text ORDER BY a::text) FROM unnest(acl) a), '{}')
                     = coalesce((SELECT array_agg(a::text ORDER BY a::text) FROM unnest(acldefault(objtype, owner)) a), '{}')
                THEN NULL
           ELSE pgmig.acl_list(acl, owner) END
    $$;

-- What every part of the description reads, as SQL functions the planner inlines into the queries that
-- use them (no SET clause, so that it can; each names everything with its schema, whatever the
-- search_path it is parsed in). The user's schemas: not the system's, pgmig's, temporary ones or an
-- extension's.
CREATE FUNCTION pgmig.user_namespaces() RETURNS TABLE (oid oid, nspname name)
    LANGUAGE sql STABLE
    AS $$
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
     WHERE NOT n.nspname OPERATOR(pg_catalog.=) ANY ('{pg_catalog,information_schema,pg_toast,pgmig}'::pg_catalog.name[])
       AND NOT n.nspname OPERATOR(pg_catalog.~~) 'pg\_temp\_%' AND NOT n.nspname OPERATOR(pg_catalog.~~) 'pg\_toast\_temp\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) n.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')
    $$;
COMMENT ON FUNCTION pgmig.user_namespaces() IS
    'the schemas of the user schema (inlined into the snapshot queries)';

-- Objects that belong to an extension are the extension's business: all such (objids NULL), or by index
-- those among objids (one of the two runs: the other's filter is false).
CREATE FUNCTION pgmig.extension_members(objids oid[]) RETURNS TABLE (classid oid, objid oid)
    LANGUAGE sql STABLE
    AS $$
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
     WHERE d.deptype OPERATOR(pg_catalog.=) 'e' AND objids IS NULL
    UNION ALL
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
     WHERE d.classid OPERATOR(pg_catalog.=) ANY ('{pg_catalog.pg_namespace,pg_catalog.pg_class,pg_catalog.pg_proc,pg_catalog.pg_type,pg_catalog.pg_collation,pg_catalog.pg_statistic_ext,pg_catalog.pg_operator,pg_catalog.pg_opfamily,pg_catalog.pg_opclass,pg_catalog.pg_event_trigger,pg_catalog.pg_publication,pg_catalog.pg_foreign_data_wrapper,pg_catalog.pg_foreign_server}'::pg_catalog.regclass[]::pg_catalog.oid[])
       AND d.objid OPERATOR(pg_catalog.=) ANY (objids) AND d.deptype OPERATOR(pg_catalog.=) 'e'
    $$;
COMMENT ON FUNCTION pgmig.extension_members(oid[]) IS
    'the objects that belong to an extension, all or among objids (inlined into the snapshot queries)';

-- The relations of the user schema the snapshot describes (or whose triggers and policies it describes):
-- not an extension's.
CREATE FUNCTION pgmig.user_relations()
    RETURNS TABLE (oid oid, relname name, relkind "char", relnamespace oid, relowner oid, relacl aclitem[],
                   relpersistence "char", relrowsecurity boolean, relforcerowsecurity boolean, reloptions text[],
                   relispartition boolean)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.oid, c.relname, c.relkind, c.relnamespace, c.relowner, c.relacl, c.relpersistence,
           c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relispartition
      FROM pg_catalog.pg_class c JOIN pgmig.user_namespaces() n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,S,f,i,I,c}'::pg_catalog."char"[])
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                        WHERE e.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND e.objid OPERATOR(pg_catalog.=) c.oid AND e.deptype OPERATOR(pg_catalog.=) 'e')
    $$;
COMMENT ON FUNCTION pgmig.user_relations() IS
    'the relations of the user schema (inlined into the snapshot queries)';

-- Catalog snapshots: a canonical jsonb description of the user schema. Keys are
-- "<type> <identity>" from pg_identify_object (the same identities the audit trail records);
-- the GUCs that change catalog text are pinned by the SET clauses. Each object that has an owner says
-- who ("owner", a role name): the same schema owned by roles of the same names describes (and
-- fingerprints) the same, and an ALTER ... OWNER TO is drift. ACL entries for the owner say OWNER.
-- Default privileges (ALTER DEFAULT PRIVILEGES) are objects of their own ("default acl ...").
-- `objids` NULL: every object; else only the objects whose OID is among them (of any catalog: the caller
-- picks its pairs), described exactly as in the full snapshot. The condition is pushed down into each
-- catalog's branch, so the descriptions (the cost) are built for those objects only. pg_class and the
-- catalogs that are large before the user creates anything (pg_proc, pg_type, pg_operator, pg_collation,
-- pg_opfamily, pg_opclass) are read as `X WHERE objids IS NULL UNION ALL X WHERE oid = ANY (objids)`:
-- the generic plan then scans the catalog only for the full snapshot (a one-time filter on the first
-- part) and looks the OIDs up by index otherwise, instead of reading every row of it for a few OIDs
-- (pg_proc alone was 0.5 ms, 40% of describing one table).
-- PL/pgSQL for its plan cache: the query is planned once per session (a SQL function plans its body on
-- every call, which costs more than describing a few objects), and always the same plan, the one a SQL
-- function would make (force_generic_plan: `objids` is a parameter of it, not a constant).
-- Two functions, one for schemas, relations and types and one for every other kind: starting a plan
-- over every kind of object costs about 0.4 ms, twice what describing one table costs, and a change to
-- tables touches none of the other kinds (pgmig.snapshot_described() starts the second only when asked
-- for one of its kinds).
CREATE FUNCTION pgmig.snapshot_relations_among(objids oid[])
    RETURNS TABLE (classid oid, objid oid, object_key text, object_type text, identity text, description jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET "DateStyle" = 'ISO, YMD'
    SET "IntervalStyle" = 'postgres'
    SET "TimeZone" = 'UTC'
    SET extra_float_digits = 1
    SET quote_all_identifiers = off
    -- one pass over the catalog: JIT compilation would cost more than it saves, on every call
    SET jit = off
    SET plan_cache_mode = force_generic_plan
    AS $$
    #variable_conflict use_column
    BEGIN
    RETURN QUERY
    WITH user_ns AS (SELECT * FROM pgmig.user_namespaces()),
    ext_member AS (SELECT * FROM pgmig.extension_members(objids)),
    -- the relations (NOT MATERIALIZED: each use gets its own plan, an index scan where few are wanted)
    rel_rows AS NOT MATERIALIZED (SELECT * FROM pgmig.user_relations()),
    -- (all of them read once, in OID order: the per-table lookups below then walk the indexes in order)
    rels AS MATERIALIZED (SELECT * FROM rel_rows ORDER BY oid),
    objects (classid, objid, description) AS (
        -- schemas
        SELECT 'pg_namespace'::regclass AS classid, n.oid AS objid,
               jsonb_build_object('owner', nn.nspowner::regrole::text,
                                  'acl', CASE WHEN nn.nspacl IS NOT NULL THEN pgmig.acl_entries(nn.nspacl, nn.nspowner, 'n') END,
                                  'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = n.oid
                                                AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0)) AS description
          FROM user_ns n JOIN pg_namespace nn ON nn.oid = n.oid
         WHERE n.nspname <> 'public'
        UNION ALL
        -- tables, partitioned and foreign tables, views, materialized views, sequences
        SELECT 'pg_class'::regclass, r.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'kind', r.relkind,
                   -- (an index is its table's)
                   'owner', CASE WHEN r.relkind NOT IN ('i', 'I') THEN r.relowner::regrole::text END,
                   'persistence', r.relpersistence,
                   'columns', CASE WHEN r.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') THEN
                              (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                   'name', a.attname,
                                   'type', format_type(a.atttypid, a.atttypmod),
                                   'not_null', a.attnotnull,
                                   'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                                   'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                                   'identity', NULLIF(a.attidentity, ''),
                                   'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                                                     THEN (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END,
                                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = r.oid
                                                   AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum),
                                   'acl', CASE WHEN a.attacl IS NOT NULL THEN pgmig.acl_entries(a.attacl, r.relowner, 'c') END,
                                   'fdw_options', CASE WHEN a.attfdwoptions IS NOT NULL THEN
                                       (SELECT jsonb_agg(o ORDER BY o) FROM unnest(a.attfdwoptions) o) END,
                                   -- created by the parent (partition, inheritance child): the diff leaves it alone;
                                   -- every column of a partition is its parent's, whether it was created PARTITION OF
                                   -- or attached (ATTACH PARTITION leaves attislocal set)
                                   'inherited', CASE WHEN NOT a.attislocal OR (r.relispartition AND a.attinhcount > 0)
                                                     THEN true END))
                                   ORDER BY a.attnum)
                                 FROM pg_attribute a
                                 JOIN pg_type t ON t.oid = a.atttypid
                                 LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped) END,
                   -- (subqueries guarded by relkind: most relations are indexes, which have none of these;
                   -- NOT NULL is a column's "not_null", also where 18 (tables) and 17 (domains) catalog it as a
                   -- constraint of type 'n')
                   'constraints', CASE WHEN r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_object_agg(co.conname, pg_get_constraintdef(co.oid, true))
                          FROM pg_constraint co WHERE co.conrelid = r.oid AND co.contype <> 'n') END,
                   'constraint_comments', CASE WHEN r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_object_agg(co.conname, d.description)
                          FROM pg_constraint co JOIN pg_description d ON d.objoid = co.oid
                                AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
                         WHERE co.conrelid = r.oid) END,
                   -- a foreign table's server and options
                   'server', CASE WHEN r.relkind = 'f' THEN
                       (SELECT fs.srvname FROM pg_foreign_table ft JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
                         WHERE ft.ftrelid = r.oid) END,
                   'foreign_options', CASE WHEN r.relkind = 'f' THEN
                       (SELECT jsonb_agg(o ORDER BY o) FROM pg_foreign_table ft, unnest(ft.ftoptions) o
                         WHERE ft.ftrelid = r.oid) END,
                   -- the constraints the parent created (a partition's or child's copy)
                   'inherited_constraints', CASE WHEN r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_agg(co.conname ORDER BY co.conname)
                          FROM pg_constraint co WHERE co.conrelid = r.oid AND co.contype <> 'n'
                           AND (NOT co.conislocal OR co.conparentid <> 0)) END,
                   -- an index that a PRIMARY KEY, UNIQUE or EXCLUDE constraint created (and drops)
                   'constraint', CASE WHEN objids IS NULL THEN ci.conname
                                      WHEN r.relkind IN ('i', 'I') THEN
                                          (SELECT co.conname FROM pg_index x JOIN pg_constraint co ON co.conrelid = x.indrelid
                                            WHERE x.indexrelid = r.oid AND co.conindid = r.oid
                                              AND co.contype IN ('p', 'u', 'x')) END,
                   -- the relations and functions a view reads: dependency order, and which views a change touches
                   'depends_on', CASE WHEN r.relkind IN ('v', 'm') THEN
                       (SELECT jsonb_agg(DISTINCT (SELECT i.type || ' ' || i.identity
                                                     FROM pg_identify_object(d.refclassid, d.refobjid, 0) i))
                          FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                         WHERE rw.ev_class = r.oid AND d.refobjid <> r.oid
                           AND (d.refclassid = 'pg_class'::regclass OR d.refclassid = 'pg_proc'::regclass
                                AND NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
                                                 WHERE p.oid = d.refobjid AND pn.nspname = 'pg_catalog'))) END,
                   'definition', CASE WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid, true)
                                      WHEN r.relkind IN ('i', 'I') THEN pg_get_indexdef(r.oid) END,
                   'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
                   'partition_of', CASE WHEN r.relispartition THEN
                       (SELECT jsonb_build_array(i.inhparent::regclass::text, pg_get_expr(c2.relpartbound, c2.oid))
                          FROM pg_inherits i JOIN pg_class c2 ON c2.oid = i.inhrelid WHERE i.inhrelid = r.oid) END,
                   'inherits', CASE WHEN NOT r.relispartition AND r.relkind IN ('r', 'p', 'f') THEN
                       (SELECT jsonb_agg(i.inhparent::regclass::text ORDER BY i.inhseqno)
                          FROM pg_inherits i WHERE i.inhrelid = r.oid) END,
                   'row_security', NULLIF(r.relrowsecurity, false),
                   'force_row_security', NULLIF(r.relforcerowsecurity, false),
                   'options', CASE WHEN r.reloptions IS NOT NULL THEN
                       (SELECT jsonb_agg(o ORDER BY o) FROM unnest(r.reloptions) o) END,
                   'sequence', CASE WHEN r.relkind = 'S' THEN (SELECT jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
                                       'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax,
                                       'cache', s.seqcache, 'cycle', s.seqcycle,
                                       'owned_by', (SELECT d.refobjid::regclass::text || '.' || a.attname
                                                      FROM pg_depend d JOIN pg_attribute a
                                                        ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                                     WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                                                       AND d.refclassid = 'pg_class'::regclass
                                                       AND d.deptype IN ('a', 'i') LIMIT 1))
                                  FROM pg_sequence s WHERE s.seqrelid = r.oid) END,
                   'acl', CASE WHEN r.relkind NOT IN ('i', 'I', 'c')
                               THEN CASE WHEN r.relacl IS NOT NULL THEN pgmig.acl_entries(r.relacl, r.relowner, (CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END)::"char") END END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = r.oid
                                AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0)))
          -- all of them, or by index only those asked for (one of the two runs: the other's filter is false)
          FROM (SELECT * FROM rels WHERE objids IS NULL UNION ALL SELECT * FROM rel_rows WHERE oid = ANY (objids)) r
          -- (pg_constraint has no index on conindid: for the full snapshot one hash join instead of a scan per
          -- index; for a few objects a lookup through the index's table, below, not a read of every constraint)
          LEFT JOIN (SELECT co.conindid, co.conname FROM pg_constraint co
                      WHERE objids IS NULL AND co.contype IN ('p', 'u', 'x') AND co.conindid <> 0) ci
                 ON ci.conindid = r.oid AND r.relkind IN ('i', 'I')
        UNION ALL
        -- types: enums, domains, ranges (composite types are their pg_class rows)
        SELECT 'pg_type'::regclass, t.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'kind', t.typtype,
                   'owner', t.typowner::regrole::text,
                   'labels', CASE WHEN t.typtype = 'e' THEN
                       (SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END,
                   'base', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
                   'not_null', CASE WHEN t.typtype = 'd' THEN t.typnotnull END,
                   'default', t.typdefault,
                   'constraints', CASE WHEN t.typtype = 'd' THEN
                       (SELECT jsonb_object_agg(co.conname, pg_get_constraintdef(co.oid, true))
                          FROM pg_constraint co WHERE co.contypid = t.oid AND co.contype <> 'n') END,
                   'constraint_comments', CASE WHEN t.typtype = 'd' THEN
                       (SELECT jsonb_object_agg(co.conname, d.description)
                          FROM pg_constraint co JOIN pg_description d ON d.objoid = co.oid
                                AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
                         WHERE co.contypid = t.oid) END,
                   'subtype', CASE WHEN t.typtype = 'r' THEN
                       (SELECT format_type(rg.rngsubtype, NULL) FROM pg_range rg WHERE rg.rngtypid = t.oid) END,
                   'acl', CASE WHEN t.typacl IS NOT NULL THEN pgmig.acl_entries(t.typacl, t.typowner, 'T') END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = t.oid
                                AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_type WHERE objids IS NULL UNION ALL SELECT * FROM pg_type WHERE oid = ANY (objids)) t
          JOIN user_ns n ON n.oid = t.typnamespace
         WHERE t.typtype IN ('e', 'd', 'r')
           AND NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
    )
    SELECT o.classid::oid, o.objid, i.type || ' ' || i.identity, i.type, i.identity, o.description
      FROM objects o, LATERAL pg_identify_object(o.classid, o.objid, 0) i
     WHERE objids IS NULL OR o.objid = ANY (objids);
    END
    $$;
COMMENT ON FUNCTION pgmig.snapshot_relations_among(oid[]) IS
    'the schemas, relations and types (enums, domains, ranges) of the user schema whose OID is among objids (NULL: all), described as in the full snapshot';

CREATE FUNCTION pgmig.snapshot_others_among(objids oid[])
    RETURNS TABLE (classid oid, objid oid, object_key text, object_type text, identity text, description jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET "DateStyle" = 'ISO, YMD'
    SET "IntervalStyle" = 'postgres'
    SET "TimeZone" = 'UTC'
    SET extra_float_digits = 1
    SET quote_all_identifiers = off
    -- one pass over the catalog: JIT compilation would cost more than it saves, on every call
    SET jit = off
    SET plan_cache_mode = force_generic_plan
    AS $$
    #variable_conflict use_column
    BEGIN
    RETURN QUERY
    WITH user_ns AS (SELECT * FROM pgmig.user_namespaces()),
    ext_member AS (SELECT * FROM pgmig.extension_members(objids)),
    -- the relations (NOT MATERIALIZED: each use gets its own plan, an index scan where few are wanted)
    rel_rows AS NOT MATERIALIZED (SELECT * FROM pgmig.user_relations()),
    objects (classid, objid, description) AS (
        -- functions and procedures
        SELECT 'pg_proc'::regclass, p.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'definition', CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END,
                   'aggregate', CASE WHEN p.prokind = 'a' THEN
                       (SELECT jsonb_strip_nulls(jsonb_build_object(
                           'arguments', pg_get_function_arguments(p.oid),
                           'kind', NULLIF(ag.aggkind, 'n'),
                           'direct_arguments', NULLIF(ag.aggnumdirectargs, 0),
                           'sfunc', ag.aggtransfn::regproc::text,
                           'stype', format_type(ag.aggtranstype, NULL),
                           'sspace', NULLIF(ag.aggtransspace, 0),
                           'finalfunc', NULLIF(ag.aggfinalfn, 0)::regproc::text,
                           'finalfunc_extra', NULLIF(ag.aggfinalextra, false),
                           'finalfunc_modify', ag.aggfinalmodify,
                           'combinefunc', NULLIF(ag.aggcombinefn, 0)::regproc::text,
                           'serialfunc', NULLIF(ag.aggserialfn, 0)::regproc::text,
                           'deserialfunc', NULLIF(ag.aggdeserialfn, 0)::regproc::text,
                           'initcond', ag.agginitval,
                           'msfunc', NULLIF(ag.aggmtransfn, 0)::regproc::text,
                           'minvfunc', NULLIF(ag.aggminvtransfn, 0)::regproc::text,
                           'mstype', CASE WHEN ag.aggmtranstype <> 0 THEN format_type(ag.aggmtranstype, NULL) END,
                           'msspace', NULLIF(ag.aggmtransspace, 0),
                           'mfinalfunc', NULLIF(ag.aggmfinalfn, 0)::regproc::text,
                           'mfinalfunc_extra', NULLIF(ag.aggmfinalextra, false),
                           'mfinalfunc_modify', CASE WHEN ag.aggmtransfn <> 0 THEN ag.aggmfinalmodify END,
                           'minitcond', ag.aggminitval,
                           'sortop', NULLIF(ag.aggsortop, 0)::regoperator::text,
                           'parallel', p.proparallel))
                          FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid) END,
                   'owner', p.proowner::regrole::text,
                   'acl', CASE WHEN p.proacl IS NOT NULL THEN pgmig.acl_entries(p.proacl, p.proowner, 'f') END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = p.oid
                                AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_proc WHERE objids IS NULL UNION ALL SELECT * FROM pg_proc WHERE oid = ANY (objids)) p
          JOIN user_ns n ON n.oid = p.pronamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
        UNION ALL
        -- triggers (not the internal ones of foreign keys)
        SELECT 'pg_trigger'::regclass, tg.oid,
               jsonb_strip_nulls(jsonb_build_object('definition', pg_get_triggerdef(tg.oid, true), 'enabled', tg.tgenabled,
                                                    -- a partition's clone of its parent's trigger
                                                    'inherited', CASE WHEN tg.tgparentid <> 0 THEN true END,
                                                    'comment', (SELECT d.description FROM pg_description d
                                                                 WHERE d.objoid = tg.oid AND d.objsubid = 0
                                                                   AND d.classoid = 'pg_trigger'::regclass)))
          -- (all of them, or by index only those asked for, as for the large catalogs: every foreign key
          -- has internal triggers, thousands in a large schema)
          FROM (SELECT * FROM pg_trigger WHERE objids IS NULL UNION ALL SELECT * FROM pg_trigger WHERE oid = ANY (objids)) tg
          JOIN rel_rows r ON r.oid = tg.tgrelid
         WHERE NOT tg.tgisinternal
        UNION ALL
        -- row-level security policies
        SELECT 'pg_policy'::regclass, po.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'command', po.polcmd, 'permissive', po.polpermissive,
                   'roles', (SELECT jsonb_agg(CASE WHEN ro = 0 THEN 'PUBLIC' ELSE ro::regrole::text END ORDER BY 1)
                               FROM unnest(po.polroles) ro),
                   'using', pg_get_expr(po.polqual, po.polrelid),
                   'check', pg_get_expr(po.polwithcheck, po.polrelid),
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = po.oid
                                AND d.classoid = 'pg_policy'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_policy WHERE objids IS NULL UNION ALL SELECT * FROM pg_policy WHERE oid = ANY (objids)) po
          JOIN rel_rows r ON r.oid = po.polrelid
        UNION ALL
        -- default privileges (ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s]): the whole ACL that objects of the
        -- type get when r creates them (global) or what they get in addition in s (per schema); OWNER is r
        SELECT 'pg_default_acl'::regclass, da.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'role', da.defaclrole::regrole::text,
                   'schema', CASE WHEN da.defaclnamespace <> 0 THEN da.defaclnamespace::regnamespace::text END,
                   'on', CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                                               WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END,
                   'acl', pgmig.acl_list(da.defaclacl, da.defaclrole)))
          FROM pg_default_acl da
         WHERE da.defaclnamespace = 0 OR da.defaclnamespace IN (SELECT oid FROM user_ns)
        UNION ALL
        -- extensions: version, schema (pgmig itself excluded)
        SELECT 'pg_extension'::regclass, x.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'version', x.extversion,
                   -- only where it can be chosen and moved: a non-relocatable extension's schema is its own business
                   'schema', CASE WHEN x.extrelocatable THEN (SELECT n.nspname FROM pg_namespace n WHERE n.oid = x.extnamespace) END,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = x.oid
                                AND d.classoid = 'pg_extension'::regclass AND d.objsubid = 0)))
          FROM pg_extension x WHERE x.extname NOT IN ('plpgsql', 'pgmig')
        UNION ALL
        -- collations
        SELECT 'pg_collation'::regclass, co.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'provider', co.collprovider,
                   'deterministic', co.collisdeterministic,
                   'lc_collate', co.collcollate,
                   'lc_ctype', co.collctype,
                   -- (17 renamed colliculocale to colllocale: read from the row, for every version)
                   'icu_locale', coalesce(to_jsonb(co) ->> 'colliculocale', to_jsonb(co) ->> 'colllocale'),
                   'owner', co.collowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = co.oid
                                AND d.classoid = 'pg_collation'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_collation WHERE objids IS NULL UNION ALL SELECT * FROM pg_collation WHERE oid = ANY (objids)) co
          JOIN user_ns n ON n.oid = co.collnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_collation'::regclass AND e.objid = co.oid)
        UNION ALL
        -- extended statistics (CREATE STATISTICS)
        SELECT 'pg_statistic_ext'::regclass, st.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'definition', pg_get_statisticsobjdef(st.oid),
                   -- (-1 up to 16, NULL from 17: the default target)
                   'target', NULLIF((to_jsonb(st) ->> 'stxstattarget')::int, -1),
                   'owner', st.stxowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = st.oid
                                AND d.classoid = 'pg_statistic_ext'::regclass AND d.objsubid = 0)))
          FROM pg_statistic_ext st JOIN user_ns n ON n.oid = st.stxnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_statistic_ext'::regclass AND e.objid = st.oid)
        UNION ALL
        -- operators, operator classes and families
        SELECT 'pg_operator'::regclass, op.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'function', op.oprcode::regprocedure::text,
                   'left', CASE WHEN op.oprleft <> 0 THEN format_type(op.oprleft, NULL) END,
                   'right', format_type(op.oprright, NULL),
                   'commutator', NULLIF(op.oprcom, 0)::regoperator::text,
                   'negator', NULLIF(op.oprnegate, 0)::regoperator::text,
                   'restrict', NULLIF(op.oprrest, 0)::regproc::text,
                   'join', NULLIF(op.oprjoin, 0)::regproc::text,
                   'hashes', NULLIF(op.oprcanhash, false),
                   'merges', NULLIF(op.oprcanmerge, false),
                   'owner', op.oprowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = op.oid
                                AND d.classoid = 'pg_operator'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_operator WHERE objids IS NULL UNION ALL SELECT * FROM pg_operator WHERE oid = ANY (objids)) op
          JOIN user_ns n ON n.oid = op.oprnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_operator'::regclass AND e.objid = op.oid)
        UNION ALL
        SELECT 'pg_opfamily'::regclass, f.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'members', (SELECT jsonb_agg(m ORDER BY m) FROM (
                       SELECT 'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::regoperator::text
                              || CASE WHEN ao.amoppurpose = 's' THEN '' ELSE ' FOR ORDER BY '
                                      || (SELECT ofm.opfname FROM pg_opfamily ofm WHERE ofm.oid = ao.amopsortfamily) END AS m
                         FROM pg_amop ao WHERE ao.amopfamily = f.oid
                       UNION ALL
                       SELECT 'FUNCTION ' || ap.amprocnum || ' (' || format_type(ap.amproclefttype, NULL) || ', '
                              || format_type(ap.amprocrighttype, NULL) || ') ' || ap.amproc::regprocedure::text
                         FROM pg_amproc ap WHERE ap.amprocfamily = f.oid) mm),
                   'owner', f.opfowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = f.oid
                                AND d.classoid = 'pg_opfamily'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_opfamily WHERE objids IS NULL UNION ALL SELECT * FROM pg_opfamily WHERE oid = ANY (objids)) f
          JOIN user_ns n ON n.oid = f.opfnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_opfamily'::regclass AND e.objid = f.oid)
        UNION ALL
        SELECT 'pg_opclass'::regclass, oc.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'type', format_type(oc.opcintype, NULL),
                   'default', oc.opcdefault,
                   'family', (SELECT i.identity FROM pg_identify_object('pg_opfamily'::regclass, oc.opcfamily, 0) i),
                   'storage', CASE WHEN oc.opckeytype <> 0 THEN format_type(oc.opckeytype, NULL) END,
                   'owner', oc.opcowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = oc.oid
                                AND d.classoid = 'pg_opclass'::regclass AND d.objsubid = 0)))
          FROM (SELECT * FROM pg_opclass WHERE objids IS NULL UNION ALL SELECT * FROM pg_opclass WHERE oid = ANY (objids)) oc
          JOIN user_ns n ON n.oid = oc.opcnamespace
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_opclass'::regclass AND e.objid = oc.oid)
        UNION ALL
        -- event triggers (pgmig's own belong to the extension)
        SELECT 'pg_event_trigger'::regclass, et.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'event', et.evtevent,
                   'function', et.evtfoid::regprocedure::text,
                   'tags', (SELECT jsonb_agg(t ORDER BY t) FROM unnest(et.evttags) t),
                   'enabled', et.evtenabled,
                   'owner', et.evtowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = et.oid
                                AND d.classoid = 'pg_event_trigger'::regclass AND d.objsubid = 0)))
          FROM pg_event_trigger et
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_event_trigger'::regclass AND e.objid = et.oid)
        UNION ALL
        -- publications
        SELECT 'pg_publication'::regclass, pb.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'all_tables', NULLIF(pb.puballtables, false),
                   'publish', (SELECT jsonb_agg(a) FROM unnest(ARRAY[
                                   CASE WHEN pb.pubinsert THEN 'insert' END, CASE WHEN pb.pubupdate THEN 'update' END,
                                   CASE WHEN pb.pubdelete THEN 'delete' END, CASE WHEN pb.pubtruncate THEN 'truncate' END]) a
                                WHERE a IS NOT NULL),
                   'via_root', NULLIF(pb.pubviaroot, false),
                   'owner', pb.pubowner::regrole::text,
                   'tables', (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                  'table', pr.prrelid::regclass::text,
                                  'columns', (SELECT jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                                               WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs::int2[])),
                                  'where', pg_get_expr(pr.prqual, pr.prrelid))) ORDER BY pr.prrelid::regclass::text)
                                FROM pg_publication_rel pr WHERE pr.prpubid = pb.oid),
                   'schemas', (SELECT jsonb_agg(n.nspname ORDER BY n.nspname)
                                 FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid
                                WHERE pn.pnpubid = pb.oid),
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = pb.oid
                                AND d.classoid = 'pg_publication'::regclass AND d.objsubid = 0)))
          FROM pg_publication pb
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_publication'::regclass AND e.objid = pb.oid)
        UNION ALL
        -- foreign-data wrappers and servers (an extension's wrapper is the extension's)
        SELECT 'pg_foreign_data_wrapper'::regclass, w.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'handler', NULLIF(w.fdwhandler, 0)::regproc::text,
                   'validator', NULLIF(w.fdwvalidator, 0)::regproc::text,
                   'options', (SELECT jsonb_agg(o ORDER BY o) FROM unnest(w.fdwoptions) o),
                   'acl', CASE WHEN w.fdwacl IS NOT NULL THEN pgmig.acl_entries(w.fdwacl, w.fdwowner, 'F') END,
                   'owner', w.fdwowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = w.oid
                                AND d.classoid = 'pg_foreign_data_wrapper'::regclass AND d.objsubid = 0)))
          FROM pg_foreign_data_wrapper w
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_foreign_data_wrapper'::regclass AND e.objid = w.oid)
        UNION ALL
        SELECT 'pg_foreign_server'::regclass, fs.oid,
               jsonb_strip_nulls(jsonb_build_object(
                   'wrapper', (SELECT w.fdwname FROM pg_foreign_data_wrapper w WHERE w.oid = fs.srvfdw),
                   'type', fs.srvtype,
                   'version', fs.srvversion,
                   -- a value that may be a secret (password, secret, token, key) is never read: its name only
                   'options', (SELECT jsonb_agg(CASE WHEN split_part(o, '=', 1) ~* '(pass|secret|token|key|cred)'
                                                     THEN split_part(o, '=', 1) || ' (value not read)' ELSE o END ORDER BY o)
                                 FROM unnest(fs.srvoptions) o),
                   'acl', CASE WHEN fs.srvacl IS NOT NULL THEN pgmig.acl_entries(fs.srvacl, fs.srvowner, 'S') END,
                   'owner', fs.srvowner::regrole::text,
                   'comment', (SELECT d.description FROM pg_description d WHERE d.objoid = fs.oid
                                AND d.classoid = 'pg_foreign_server'::regclass AND d.objsubid = 0)))
          FROM pg_foreign_server fs
         WHERE NOT EXISTS (SELECT 1 FROM ext_member e WHERE e.classid = 'pg_foreign_server'::regclass AND e.objid = fs.oid)
        UNION ALL
        -- user mappings: that they exist, nothing of their options (passwords; and only some roles may read them)
        SELECT 'pg_user_mapping'::regclass, um.umid, '{}'::jsonb
          FROM pg_user_mappings um

    )
    SELECT o.classid::oid, o.objid, i.type || ' ' || i.identity, i.type, i.identity, o.description
      FROM objects o, LATERAL pg_identify_object(o.classid, o.objid, 0) i
     WHERE objids IS NULL OR o.objid = ANY (objids);
    END
    $$;
COMMENT ON FUNCTION pgmig.snapshot_others_among(oid[]) IS
    'the objects of the user schema other than schemas, relations and types whose OID is among objids (NULL: all), described as in the full snapshot';

-- (Inlined by the planner: no SET clause of its own, the called functions have them.)
CREATE FUNCTION pgmig.snapshot_objects_among(objids oid[])
    RETURNS TABLE (classid oid, objid oid, object_key text, object_type text, identity text, description jsonb)
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM pgmig.snapshot_relations_among(objids)
    UNION ALL
    SELECT * FROM pgmig.snapshot_others_among(objids)
    $$;
COMMENT ON FUNCTION pgmig.snapshot_objects_among(oid[]) IS
    'the objects of the user schema whose OID is among objids (NULL: all), described as in the full snapshot';

-- The objects (classids[i], objids[i]) that the snapshot describes, as it describes them: those of
-- pg_class, pg_type and pg_namespace by pgmig.snapshot_relations_among(), the others by
-- pgmig.snapshot_others_among(), which runs only when a pair names one of the catalogs it describes (keep
-- the list in step with its parts: test/sql/snapshot_kinds.sql describes every kind through here).
-- NULL or empty arrays: nothing. (Inlined into the caller's query, whose plan then calls the second
-- function only behind that one-time test; no SET clause, so everything is named with its schema.)
CREATE FUNCTION pgmig.snapshot_described(classids oid[], objids oid[])
    RETURNS TABLE (classid oid, objid oid, object_key text, object_type text, identity text, description jsonb)
    LANGUAGE sql STABLE
    AS $$
    SELECT d.* FROM pgmig.snapshot_relations_among(objids) d
     WHERE objids IS NOT NULL
       AND EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest(classids), pg_catalog.unnest(objids)) AS s(classid, objid)
                    WHERE s.classid OPERATOR(pg_catalog.=) d.classid AND s.objid OPERATOR(pg_catalog.=) d.objid)
    UNION ALL
    SELECT d.* FROM pgmig.snapshot_others_among(objids) d
     WHERE objids IS NOT NULL
       AND classids OPERATOR(pg_catalog.&&) '{pg_catalog.pg_proc,pg_catalog.pg_trigger,pg_catalog.pg_policy,pg_catalog.pg_default_acl,pg_catalog.pg_extension,pg_catalog.pg_collation,pg_catalog.pg_statistic_ext,pg_catalog.pg_operator,pg_catalog.pg_opfamily,pg_catalog.pg_opclass,pg_catalog.pg_event_trigger,pg_catalog.pg_publication,pg_catalog.pg_foreign_data_wrapper,pg_catalog.pg_foreign_server,pg_catalog.pg_user_mapping}'::pg_catalog.regclass[]::pg_catalog.oid[]
       AND EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest(classids), pg_catalog.unnest(objids)) AS s(classid, objid)
                    WHERE s.classid OPERATOR(pg_catalog.=) d.classid AND s.objid OPERATOR(pg_catalog.=) d.objid)
    $$;
COMMENT ON FUNCTION pgmig.snapshot_described(oid[], oid[]) IS
    'the objects (classids[i], objids[i]) that the snapshot describes, described as in the full snapshot';


-- (Inlined by the planner: no SET clause of its own, the called function has them.)
CREATE FUNCTION pgmig.snapshot_objects()
    RETURNS TABLE (object_key text, object_type text, identity text, description jsonb)
    LANGUAGE sql STABLE
    AS $$ SELECT object_key, object_type, identity, description FROM pgmig.snapshot_objects_among(NULL) $$;
COMMENT ON FUNCTION pgmig.snapshot_objects() IS 'the objects of the user schema, canonically described, one row each';

-- The objects whose description in the snapshot may change when the objects (classids[i], objids[i]) change:
-- they themselves and, through pg_depend, every object that depends on them, directly or not (a view on a
-- renamed table, an index of an altered column, a foreign key referencing the table), each taken to the object
-- the snapshot describes it in (a column default or a constraint to its table or domain, a view's rule to the
-- view, a publication's table or schema to the publication, an operator family's member to the family, a
-- table's row type to the table), plus the operators that name a touched operator as commutator or negator
-- (PostgreSQL records no dependency for those). Objects that no longer exist are simply not found.
CREATE FUNCTION pgmig.snapshot_scope(classids oid[], objids oid[])
    RETURNS TABLE (classid oid, objid oid)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- (PL/pgSQL for the plan it keeps for the session, where a SQL function's is made again at every
    -- call; generic, as a custom plan for each array would be: the rollback test and every derived
    -- snapshot call this several times, 0.2 ms instead of 0.5 ms)
    SET plan_cache_mode = force_generic_plan
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE reached(classid, objid) AS (
        SELECT * FROM unnest(classids, objids)
        UNION
        SELECT n.classid, n.objid
          FROM reached r,
               LATERAL (SELECT d.classid, d.objid FROM pg_depend d
                         WHERE d.refclassid = r.classid AND d.refobjid = r.objid
                        UNION ALL
                        SELECT 'pg_class'::regclass, ad.adrelid FROM pg_attrdef ad
                         WHERE r.classid = 'pg_attrdef'::regclass AND ad.oid = r.objid
                        UNION ALL
                        SELECT CASE WHEN co.conrelid <> 0 THEN 'pg_class'::regclass ELSE 'pg_type'::regclass END,
                               CASE WHEN co.conrelid <> 0 THEN co.conrelid ELSE co.contypid END
                          FROM pg_constraint co
                         WHERE r.classid = 'pg_constraint'::regclass AND co.oid = r.objid
                        UNION ALL
                        SELECT 'pg_class'::regclass, rw.ev_class FROM pg_rewrite rw
                         WHERE r.classid = 'pg_rewrite'::regclass AND rw.oid = r.objid
                        UNION ALL
                        SELECT 'pg_class'::regclass, t.typrelid FROM pg_type t
                         WHERE r.classid = 'pg_type'::regclass AND t.oid = r.objid AND t.typrelid <> 0
                        UNION ALL
                        SELECT 'pg_publication'::regclass, pr.prpubid FROM pg_publication_rel pr
                         WHERE r.classid = 'pg_publication_rel'::regclass AND pr.oid = r.objid
                        UNION ALL
                        SELECT 'pg_publication'::regclass, pn.pnpubid FROM pg_publication_namespace pn
                         WHERE r.classid = 'pg_publication_namespace'::regclass AND pn.oid = r.objid
                        UNION ALL
                        SELECT 'pg_opfamily'::regclass, ao.amopfamily FROM pg_amop ao
                         WHERE r.classid = 'pg_amop'::regclass AND ao.oid = r.objid
                        UNION ALL
                        SELECT 'pg_opfamily'::regclass, ap.amprocfamily FROM pg_amproc ap
                         WHERE r.classid = 'pg_amproc'::regclass AND ap.oid = r.objid
                        UNION ALL
                        SELECT 'pg_operator'::regclass, op.oid FROM pg_operator op
                         WHERE r.classid = 'pg_operator'::regclass AND (op.oprcom = r.objid OR op.oprnegate = r.objid)
                       ) n
    )
    SELECT DISTINCT classid, objid FROM reached;
END
$$;
COMMENT ON FUNCTION pgmig.snapshot_scope(oid[], oid[]) IS
    'the objects whose snapshot description may change with the given objects: them, their dependents, and where each is described';

-- The catalog rows each given object's description is made of, by the object: the object itself, and
-- what pgmig.snapshot_scope() takes to it (keep the two in step), read from the object's side.
-- (PL/pgSQL with a generic plan, as snapshot_scope: a SQL function planned its body at every call, 0.8 ms of
-- each derived snapshot)
CREATE FUNCTION pgmig.snapshot_parts(classids oid[], objids oid[])
    RETURNS TABLE (classid oid, objid oid, part_classid oid, part_objid oid)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH o AS (SELECT * FROM unnest(classids, objids) AS o(classid, objid))
    SELECT o.classid, o.objid, o.classid, o.objid FROM o
    UNION ALL
    SELECT o.classid, o.objid, 'pg_attrdef'::regclass, ad.oid
      FROM o JOIN pg_attrdef ad ON ad.adrelid = o.objid WHERE o.classid = 'pg_class'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_constraint'::regclass, co.oid
      FROM o JOIN pg_constraint co ON co.conrelid = o.objid WHERE o.classid = 'pg_class'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_constraint'::regclass, co.oid
      FROM o JOIN pg_constraint co ON co.contypid = o.objid WHERE o.classid = 'pg_type'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_rewrite'::regclass, rw.oid
      FROM o JOIN pg_rewrite rw ON rw.ev_class = o.objid WHERE o.classid = 'pg_class'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_type'::regclass, c.reltype
      FROM o JOIN pg_class c ON c.oid = o.objid WHERE o.classid = 'pg_class'::regclass AND c.reltype <> 0
    UNION ALL
    SELECT o.classid, o.objid, 'pg_publication_rel'::regclass, pr.oid
      FROM o JOIN pg_publication_rel pr ON pr.prpubid = o.objid WHERE o.classid = 'pg_publication'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_publication_namespace'::regclass, pn.oid
      FROM o JOIN pg_publication_namespace pn ON pn.pnpubid = o.objid WHERE o.classid = 'pg_publication'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_amop'::regclass, ao.oid
      FROM o JOIN pg_amop ao ON ao.amopfamily = o.objid WHERE o.classid = 'pg_opfamily'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_amproc'::regclass, ap.oid
      FROM o JOIN pg_amproc ap ON ap.amprocfamily = o.objid WHERE o.classid = 'pg_opfamily'::regclass
    UNION ALL
    SELECT o.classid, o.objid, 'pg_operator'::regclass, other.oid
      FROM o JOIN pg_operator op ON op.oid = o.objid,
           LATERAL (VALUES (op.oprcom), (op.oprnegate)) other(oid)
     WHERE o.classid = 'pg_operator'::regclass AND other.oid <> 0;
END
$$;
COMMENT ON FUNCTION pgmig.snapshot_parts(oid[], oid[]) IS
    'the catalog rows the description of each given object is made of (the inverse of pgmig.snapshot_scope()''s mapping)';

CREATE FUNCTION migrate_snapshot() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT coalesce(jsonb_object_agg(object_key, description), '{}'::jsonb) FROM pgmig.snapshot_objects() $$;
COMMENT ON FUNCTION migrate_snapshot() IS
    'canonical jsonb description of the user schema: the same schema gives the same document';

CREATE FUNCTION migrate_fingerprint() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT encode(sha256(convert_to(coalesce(jsonb_object_agg(object_key, description), '{}'::jsonb)::text, 'UTF8')),
                  'hex')
      FROM pgmig.snapshot_objects()
    $$;
COMMENT ON FUNCTION migrate_fingerprint() IS 'SHA-256 of migrate_snapshot()';

-- "Equal except for column order": a table's description with its columns sorted by name (byte order)
-- instead of by position. Tables only (plain, partitioned, foreign): the column order of a view or a
-- composite type is part of its definition.
CREATE FUNCTION pgmig.without_column_order(description jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT CASE WHEN description ->> 'kind' IN ('r', 'p', 'f') AND jsonb_typeof(description -> 'columns') = 'array'
                THEN jsonb_set(description, '{columns}',
                               (SELECT jsonb_agg(c ORDER BY (c ->> 'name') COLLATE "C")
                                  FROM jsonb_array_elements(description -> 'columns') c))
                ELSE description END
    $$;
COMMENT ON FUNCTION pgmig.without_column_order(jsonb) IS
    'a snapshot description with a table''s columns sorted by name: compares schemas regardless of column order';

-- (No DEFAULT on the argument: migrate_fingerprint() with no argument stays the one above, unambiguous.)
CREATE FUNCTION migrate_fingerprint(ignore_column_order boolean) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT encode(sha256(convert_to(coalesce(jsonb_object_agg(object_key,
                                                              CASE WHEN ignore_column_order
                                                                   THEN pgmig.without_column_order(description)
                                                                   ELSE description END),
                                             '{}'::jsonb)::text, 'UTF8')),
                  'hex')
      FROM pgmig.snapshot_objects()
    $$;
COMMENT ON FUNCTION migrate_fingerprint(boolean) IS
    'SHA-256 of migrate_snapshot(); with ignore_column_order, of the snapshot with table columns sorted by name';

CREATE FUNCTION migrate_fingerprint_objects() RETURNS TABLE (object_type text, identity text, fingerprint text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT object_type, identity, encode(sha256(convert_to(description::text, 'UTF8')), 'hex')
      FROM pgmig.snapshot_objects() ORDER BY object_key
    $$;
COMMENT ON FUNCTION migrate_fingerprint_objects() IS 'the fingerprint of each object, to locate a difference';

-- The schema the ledger expects: the snapshot taken after each apply, rollback and baseline. A row holds
-- the whole document (snapshot) when CREATE EXTENSION or pgmig 0.1.0 took it; since 0.2.0 the newest
-- expected schema is kept object by object in pgmig.expected_objects, and the row says how it was made.
CREATE TABLE pgmig.snapshots (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    reason      text        NOT NULL,
    fingerprint text,
    snapshot    jsonb,
    -- The PostgreSQL major version it was taken on (its catalogs describe objects their own way);
    -- NULL for the rows of pgmig 0.1.0, which ran on PostgreSQL 15 only.
    server_major integer,
    -- What a later snapshot may be derived from: the newest audit row then, the database (system
    -- identifier/OID: object OIDs mean nothing in another one) and the roles' names (shared, renamed
    -- from any database, written into owners and privileges).
    audit_id    bigint,
    database_identity text,
    roles       text,
    -- true: derived from the one before and the objects the change touched; false: the whole schema
    -- described, for the reason in full_because
    derived     boolean     NOT NULL DEFAULT false,
    full_because text,
    described   integer
);
COMMENT ON TABLE pgmig.snapshots IS 'the schema as pgmig left it after each apply, rollback and baseline';
COMMENT ON COLUMN pgmig.snapshots.server_major IS
    'the PostgreSQL major version the snapshot was taken on; NULL: taken by pgmig 0.1.0, on PostgreSQL 15';
COMMENT ON COLUMN pgmig.snapshots.snapshot IS
    'the whole schema as one document (CREATE EXTENSION, pgmig 0.1.0); NULL: kept in pgmig.expected_objects';
COMMENT ON COLUMN pgmig.snapshots.derived IS
    'true: derived from the snapshot before and the objects the change touched, with their dependents';
COMMENT ON COLUMN pgmig.snapshots.full_because IS
    'why the whole schema was described rather than what changed';
COMMENT ON COLUMN pgmig.snapshots.described IS
    'the number of objects this snapshot described from the catalogs';

-- The newest expected schema, one row per object, as pgmig.snapshot_objects() describes it.
CREATE TABLE pgmig.expected_objects (
    object_key  text  PRIMARY KEY,
    classid     oid   NOT NULL,
    objid       oid   NOT NULL,
    description jsonb NOT NULL
);
COMMENT ON TABLE pgmig.expected_objects IS
    'the schema the ledger expects, object by object (read it with migrate_expected_snapshot())';
-- Every catalog row an expected object's description is made of (the object itself, its defaults,
-- constraints, rules, row type, publication members, operator family members, commutator and negator):
-- after a DROP only the dropped row's address is reported, and this finds the object to describe again.
CREATE TABLE pgmig.expected_parts (
    classid    oid  NOT NULL,
    objid      oid  NOT NULL,
    object_key text NOT NULL,
    PRIMARY KEY (classid, objid, object_key)
);
CREATE INDEX expected_parts_object_key ON pgmig.expected_parts (object_key);
COMMENT ON TABLE pgmig.expected_parts IS
    'the catalog rows each object of pgmig.expected_objects is described from';

-- (Statements outside functions run with search_path = <target schema>, pg_temp: qualified, so that
-- no better-matching overload planted in the target schema is picked, e.g. convert_to(text, text).)
INSERT INTO pgmig.snapshots (reason, fingerprint, snapshot, server_major)
    SELECT 'CREATE EXTENSION',
           pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(s::pg_catalog.text, 'UTF8')), 'hex'), s,
           pg_catalog.current_setting('server_version_num')::pg_catalog.int4 OPERATOR(pg_catalog./) 10000
      FROM (SELECT coalesce(pg_catalog.jsonb_object_agg(object_key, description), '{}'::pg_catalog.jsonb) AS s
              FROM pgmig.snapshot_objects()) snapshot;
