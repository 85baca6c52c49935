-- ==== data integrity ====
-- Problems in the data and its indexes that the catalog alone does not show. SECURITY INVOKER on purpose:
-- a check is made only when the caller may SELECT every table it reads (else it is reported as
-- not-checked), so a sample value never reaches anyone who could not read it anyway. The queries that
-- evaluate a table owner's code (a CHECK expression, a foreign key's operators and casts, a view behind
-- an owned sequence) run as that table's owner inside a security-restricted operation
-- (pgmig.constraint_violations, pgmig.sequence_column_extreme), never with the caller's rights. It only
-- reads: no VALIDATE, no lock stronger than ACCESS SHARE. Cost: one scan per NOT VALID constraint and per
-- foreign key (an anti-join against the referenced table), one max() per owned sequence's column.

-- The queries that count and sample the rows violating a CHECK or FOREIGN KEY constraint, derived from
-- the catalog only (this function runs nothing of the user's: pgmig.constraint_violations runs its
-- result as the table's owner). builtin_only: a foreign key whose operators are built in and take its
-- columns' (built-in) types as they are, so that its query runs no user code whoever runs it. No row
-- for anything else.
CREATE FUNCTION pgmig.constraint_check_queries(con oid)
    RETURNS TABLE (relid oid, refrelid oid, count_sql text, sample_sql text, builtin_only boolean)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r record;
    cols text;        -- the key columns as written in a sample: "(a, b)"
    vals text;        -- an expression that renders one row's key values
    cond text;        -- the violation condition
    q text;
    s text;
    from_child text;
BEGIN
    SELECT c.oid, c.conname, c.contype, c.conrelid, c.confrelid, c.confmatchtype, c.conkey, c.confkey,
           c.conpfeqop, c.conbin, t.relkind AS child_kind, ft.relkind AS parent_kind
      INTO r
      FROM pg_constraint c
      JOIN pg_class t ON t.oid = c.conrelid
      LEFT JOIN pg_class ft ON ft.oid = c.confrelid
     WHERE c.oid = con AND c.contype IN ('c', 'f');
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT '(' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.i) || ')',
           'concat(''('', concat_ws('', '', '
               || string_agg(format('coalesce(x.%I::text, ''NULL'')', a.attname), ', ' ORDER BY k.i) || '), '')'')'
      INTO cols, vals
      FROM unnest(CASE WHEN r.contype = 'f' THEN r.conkey
                       ELSE (SELECT array_agg(DISTINCT v.attnum ORDER BY v.attnum)
                               FROM pg_depend d, LATERAL (SELECT d.refobjsubid::smallint AS attnum) v
                              WHERE d.classid = 'pg_constraint'::regclass AND d.objid = r.oid
                                AND d.refclassid = 'pg_class'::regclass AND d.refobjid = r.conrelid
                                AND d.refobjsubid > 0) END) WITH ORDINALITY AS k(attnum, i)
      JOIN pg_attribute a ON a.attrelid = r.conrelid AND a.attnum = k.attnum;
    IF vals IS NULL THEN  -- a CHECK on no column: name the row by its ctid
        cols := '(ctid)';
        vals := '''('' || x.ctid::text || '')''';
    END IF;
    -- ONLY for a plain table (its inheritance children have their own constraints); a partitioned
    -- table has no rows of its own, so it is read as a whole.
    from_child := CASE WHEN r.child_kind = 'p' THEN '' ELSE 'ONLY ' END || r.conrelid::regclass::text;
    builtin_only := false;
    IF r.contype = 'c' THEN
        -- A CHECK passes on true and on NULL: only false violates it.
        cond := format('(%s) IS FALSE', pg_get_expr(r.conbin, r.conrelid));
    ELSE
        -- The referenced row, compared with the constraint's own equality operators, each given the
        -- operand types it declares (as PostgreSQL's own foreign-key checks write it), so that no other
        -- operator of that name can be picked.
        SELECT format('NOT EXISTS (SELECT 1 FROM %s%s p WHERE %s)',
                      CASE WHEN r.parent_kind = 'p' THEN '' ELSE 'ONLY ' END, r.confrelid::regclass,
                      string_agg(format('p.%I%s OPERATOR(%I.%s) x.%I%s', pa.attname,
                                        CASE WHEN pa.atttypid <> o.oprleft
                                             THEN format('::%I.%I', ltn.nspname, lt.typname) ELSE '' END,
                                        opn.nspname, o.oprname, ca.attname,
                                        CASE WHEN ca.atttypid <> o.oprright
                                             THEN format('::%I.%I', rtn.nspname, rt.typname) ELSE '' END),
                                 ' AND ' ORDER BY k.i)),
               -- MATCH SIMPLE: a key with any NULL is not checked. MATCH FULL: all NULL is fine,
               -- some NULL is a violation by itself.
               string_agg(format('x.%I IS NOT NULL', ca.attname), ' AND ' ORDER BY k.i),
               string_agg(format('x.%I IS NULL', ca.attname), ' OR ' ORDER BY k.i),
               -- (16384 is FirstNormalObjectId: every object below it was made by initdb)
               bool_and(o.oid < 16384 AND pa.atttypid = o.oprleft AND ca.atttypid = o.oprright
                        AND o.oprleft < 16384 AND o.oprright < 16384)
          INTO q, cond, s, builtin_only
          FROM unnest(r.conkey, r.confkey, r.conpfeqop) WITH ORDINALITY AS k(ck, pk, op, i)
          JOIN pg_attribute ca ON ca.attrelid = r.conrelid AND ca.attnum = k.ck
          JOIN pg_attribute pa ON pa.attrelid = r.confrelid AND pa.attnum = k.pk
          JOIN pg_operator o ON o.oid = k.op
          JOIN pg_namespace opn ON opn.oid = o.oprnamespace
          JOIN pg_type lt ON lt.oid = o.oprleft
          JOIN pg_namespace ltn ON ltn.oid = lt.typnamespace
          JOIN pg_type rt ON rt.oid = o.oprright
          JOIN pg_namespace rtn ON rtn.oid = rt.typnamespace;
        IF r.confmatchtype = 'f' THEN
            -- all NULL: fine; some NULL: violation; none NULL: the referenced row must exist
            cond := format('NOT (%1$s) AND ((%2$s) OR %3$s)', replace(s, ' OR ', ' AND '), s, q);
        ELSE
            cond := format('%s AND %s', cond, q);
        END IF;
    END IF;
    relid := r.conrelid;
    refrelid := NULLIF(r.confrelid, 0);
    count_sql := format('SELECT count(*) FROM %s x WHERE %s', from_child, cond);
    sample_sql := format('SELECT %L || ''='' || %s FROM %s x WHERE %s LIMIT 1', cols, vals, from_child, cond);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION pgmig.constraint_check_queries(oid) IS
    'the count and sample queries of a CHECK or FOREIGN KEY constraint, derived from the catalog (runs nothing)';

-- Counts (and samples) the rows that violate a CHECK or FOREIGN KEY constraint, running the queries of
-- pgmig.constraint_check_queries as the table's owner inside a security-restricted operation: a CHECK
-- always; a foreign key when that owner may read the referenced table, else as the caller when
-- builtin_only, else not at all. not_checked says why nothing was counted (the caller may not SELECT
-- a table, or row-level security hides rows from the caller, ...). It takes a constraint's OID, never
-- SQL text.
CREATE FUNCTION pgmig.constraint_violations(con oid)
    RETURNS TABLE (count bigint, sample text, not_checked text)
    AS 'MODULE_PATHNAME', 'pgmig_constraint_violations'
    LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pgmig.constraint_violations(oid) IS
    'rows violating a CHECK or FOREIGN KEY constraint, counted as the table''s owner in a security-restricted operation';

-- The max() (min() for a descending sequence) of the integer column that owns a sequence, read as the
-- column's table's owner inside a security-restricted operation (the "table" may be a view that calls
-- functions, a foreign table, or have row-level security). not_checked says why it was not read.
CREATE FUNCTION pgmig.sequence_column_extreme(seq oid) RETURNS TABLE (extreme numeric, not_checked text)
    AS 'MODULE_PATHNAME', 'pgmig_sequence_column_extreme'
    LANGUAGE C VOLATILE STRICT
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pgmig.sequence_column_extreme(oid) IS
    'max() (or min()) of the column owning a sequence, read as its table''s owner in a security-restricted operation';

CREATE FUNCTION pgmig.integrity_scan()
    RETURNS TABLE (problem text, severity text, object text, detail text, count bigint, sample text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    r record;
    n bigint;
    s text;
    why text;         -- why a check was not made
BEGIN
    -- Constraints (CHECK and FOREIGN KEY) of user tables. A NOT VALID one is reported whatever it finds;
    -- a valid foreign key is reported only when it has orphans (possible after
    -- session_replication_role = replica or disabled triggers).
    FOR r IN
        SELECT c.oid, c.conname, c.contype, c.convalidated, c.conrelid, c.confrelid,
               format('%s on %s', quote_ident(c.conname), c.conrelid::regclass) AS label
          FROM pg_constraint c
          JOIN pg_class t ON t.oid = c.conrelid
          JOIN pg_namespace ns ON ns.oid = t.relnamespace
         WHERE c.contype IN ('c', 'f')
           AND c.conparentid = 0                        -- a partition's copy is checked through its parent
           AND (c.contype = 'c' OR c.confmatchtype IN ('s', 'f'))
           AND (NOT c.convalidated OR c.contype = 'f')
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND ns.nspname NOT LIKE 'pg\_temp\_%' AND ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
         ORDER BY c.conrelid::regclass::text, c.conname
    LOOP
        BEGIN
            SELECT v.count, v.sample, v.not_checked INTO n, s, why FROM pgmig.constraint_violations(r.oid) v;
        EXCEPTION WHEN insufficient_privilege THEN
            n := NULL;
            why := format('permission denied (%s): the check runs as the owner of %s, who needs SELECT on the '
                          'tables it reads and USAGE on their schemas', SQLERRM, r.conrelid::regclass);
        END;
        IF why IS NOT NULL THEN
            problem := 'not-checked'; severity := 'warning'; object := r.label; detail := why;
            count := NULL; sample := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        object := r.label; count := n; sample := s;
        IF NOT r.convalidated THEN
            problem := 'not-valid-constraint';
            IF n = 0 THEN
                severity := 'warning';
                detail := format('%s constraint is NOT VALID but no row violates it now: run ALTER TABLE %s '
                                 'VALIDATE CONSTRAINT %I (takes only a SHARE UPDATE EXCLUSIVE lock)',
                                 CASE r.contype WHEN 'c' THEN 'CHECK' ELSE 'FOREIGN KEY' END,
                                 r.conrelid::regclass, r.conname);
            ELSE
                severity := 'error';
                detail := format('%s constraint is NOT VALID and %s row(s) violate it, so VALIDATE CONSTRAINT '
                                 'would fail: fix or delete those rows first (sample: %s)',
                                 CASE r.contype WHEN 'c' THEN 'CHECK' ELSE 'FOREIGN KEY' END, n, s);
            END IF;
            RETURN NEXT;
        ELSIF n > 0 THEN
            problem := 'fk-orphans'; severity := 'error';
            detail := format('%s row(s) of %s reference no row of %s (sample key %s), although the foreign key '
                             'is valid: rows were written with triggers off (session_replication_role = replica, '
                             'DISABLE TRIGGER); delete them or restore their referenced rows',
                             n, r.conrelid::regclass, r.confrelid::regclass, s);
            RETURN NEXT;
        END IF;
    END LOOP;

    -- Invalid indexes: a failed CREATE INDEX CONCURRENTLY (or REINDEX CONCURRENTLY) leaves one behind. It
    -- is not used by queries yet may still be updated by every write. One still being built is skipped.
    FOR r IN
        SELECT i.indexrelid, i.indrelid, ic.relkind
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN pg_namespace ns ON ns.oid = ic.relnamespace
         WHERE NOT i.indisvalid
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND ns.nspname NOT LIKE 'pg\_temp\_%' AND ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indrelid AND d.deptype = 'e')
         ORDER BY i.indexrelid::regclass::text
    LOOP
        problem := 'invalid-index'; severity := 'error';
        object := format('%s on %s', r.indexrelid::regclass, r.indrelid::regclass);
        detail := CASE WHEN r.relkind = 'I'
            THEN format('partitioned index %s is invalid: some partition lacks its index; create it and ALTER '
                        'INDEX %s ATTACH PARTITION ...', r.indexrelid::regclass, r.indexrelid::regclass)
            ELSE format('index %s is invalid (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY): '
                        'queries do not use it; DROP INDEX CONCURRENTLY %s and create it again, or REINDEX '
                        'INDEX CONCURRENTLY %s', r.indexrelid::regclass, r.indexrelid::regclass,
                        r.indexrelid::regclass) END;
        count := NULL; sample := NULL;
        RETURN NEXT;
    END LOOP;

    -- Sequences owned by a column (serial, identity) whose next value already exists in that column:
    -- the next insert that takes a default fails with a duplicate key (or repeats a value).
    FOR r IN
        SELECT d.objid AS seq, d.refobjid AS rel, a.attname, t.relkind, sq.seqstart, sq.seqincrement
          FROM pg_depend d
          JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
          JOIN pg_sequence sq ON sq.seqrelid = sc.oid
          JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_namespace ns ON ns.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
           AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND ns.nspname NOT LIKE 'pg\_temp\_%' AND ns.nspname NOT LIKE 'pg\_toast\_temp\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend e
                            WHERE e.classid = 'pg_class'::regclass AND e.objid = t.oid AND e.deptype = 'e')
         ORDER BY d.objid::regclass::text
    LOOP
        IF NOT has_table_privilege(r.rel, 'SELECT') OR NOT has_sequence_privilege(r.seq, 'SELECT') THEN
            problem := 'not-checked'; severity := 'warning';
            object := format('%s (%s.%I)', r.seq::regclass, r.rel::regclass, r.attname);
            detail := 'permission denied: SELECT on the table and the sequence is needed to compare them';
            count := NULL; sample := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        DECLARE
            last_value bigint := pg_sequence_last_value(r.seq);  -- NULL: nextval() never called
            next_value numeric;
            extreme numeric;
        BEGIN
            next_value := CASE WHEN last_value IS NULL THEN r.seqstart
                               ELSE last_value::numeric + r.seqincrement END;
            -- read as the table's owner: the "table" may be a view that calls functions
            SELECT e.extreme, e.not_checked INTO extreme, why FROM pgmig.sequence_column_extreme(r.seq) e;
            IF why IS NOT NULL THEN
                problem := 'not-checked'; severity := 'warning';
                object := format('%s (%s.%I)', r.seq::regclass, r.rel::regclass, r.attname);
                detail := why;
                count := NULL; sample := NULL;
                RETURN NEXT;
                CONTINUE;
            END IF;
            IF extreme IS NOT NULL
               AND ((r.seqincrement > 0 AND next_value <= extreme) OR (r.seqincrement < 0 AND next_value >= extreme))
            THEN
                problem := 'sequence-behind'; severity := 'error';
                object := format('%s (%s.%I)', r.seq::regclass, r.rel::regclass, r.attname);
                detail := format('sequence %s is at %s (next value %s) but %s(%I) of %s is %s: the next insert '
                                 'that takes the default collides; run SELECT setval(%L, %s)',
                                 r.seq::regclass, coalesce(last_value::text, 'its start, never used'), next_value,
                                 CASE WHEN r.seqincrement > 0 THEN 'max' ELSE 'min' END, r.attname,
                                 r.rel::regclass, extreme, r.seq::regclass::text, extreme);
                count := NULL;
                sample := extreme::text;
                RETURN NEXT;
            END IF;
        END;
    END LOOP;

    -- Tables without a primary key: logical replication cannot replicate their UPDATEs and DELETEs
    -- (without REPLICA IDENTITY FULL), and duplicates cannot be told apart. A partition is covered by its
    -- parent.
    FOR r IN
        SELECT t.oid
          FROM pg_class t
          JOIN pg_namespace ns ON ns.oid = t.relnamespace
         WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition AND t.relpersistence <> 't'
           AND ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pgmig', 'pg_toast')
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
         ORDER BY t.oid::regclass::text
    LOOP
        problem := 'table-without-primary-key'; severity := 'warning'; object := r.oid::regclass::text;
        detail := format('table %s has no primary key: add one (or a unique NOT NULL key and REPLICA IDENTITY '
                         'USING INDEX) so rows can be told apart and logical replication can update them',
                         r.oid::regclass);
        count := NULL; sample := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION pgmig.integrity_scan() IS 'the findings of migrate_check_integrity(), unordered';

CREATE FUNCTION migrate_check_integrity()
    RETURNS TABLE (problem text, severity text, object text, detail text, count bigint, sample text)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT s.problem, s.severity, s.object, s.detail, s.count, s.sample
      FROM pgmig.integrity_scan() s
     ORDER BY CASE s.severity WHEN 'error' THEN 0 ELSE 1 END, s.problem, s.object
    $$;
COMMENT ON FUNCTION migrate_check_integrity() IS
    'data integrity of the user schemas: NOT VALID constraints, orphaned rows, invalid indexes, sequences '
    'behind their column, tables without a primary key; reads every table a check needs (no row = healthy)';

REVOKE ALL ON FUNCTION pgmig.integrity_scan(), migrate_check_integrity(), pgmig.constraint_check_queries(oid),
    pgmig.constraint_violations(oid), pgmig.sequence_column_extreme(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmig.integrity_scan(), migrate_check_integrity(), pgmig.constraint_check_queries(oid),
    pgmig.constraint_violations(oid), pgmig.sequence_column_extreme(oid) TO pgmig_reader;
