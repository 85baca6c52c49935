-- migrate_lint on names it cannot look up: another database's (db.schema.name) and names of more than
-- three parts. PostgreSQL raises for those even where a lookup may miss (0A000, 42601); the lint, found
-- raising them by the fuzzer (scripts/fuzz lint), treats them as unknown names: findings, never an error.
-- Running such a statement still fails, with PostgreSQL's own error.
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never
CREATE TABLE odd_t (id int PRIMARY KEY, v text);
CREATE INDEX odd_i ON odd_t (v);
SELECT q.sql, coalesce(string_agg(l.rule, ', ' ORDER BY l.rule), '(no finding)') AS rules
FROM (VALUES
    ('DELETE FROM pgmig.hisgmig.historytory;'),
    ('DELETE FROM otherdb.public.odd_t;'),
    ('DROP TABLE otherdb.public.odd_t;'),
    ('DROP INDEX otherdb.public.odd_i;'),
    ('DROP TABLE a.b.c.d;'),
    ('DROP INDEX a.b.c.d;'),
    ('ALTER TABLE otherdb.public.odd_t ADD COLUMN c int NOT NULL;'),
    ('ALTER TABLE odd_t ALTER COLUMN v TYPE otherdb.s.typ;'),
    ('ALTER TABLE odd_t ALTER COLUMN v TYPE a.b.c.d;'),
    ('ALTER TABLE odd_t ADD COLUMN c int DEFAULT otherdb.s.f();'),
    ('ALTER TABLE odd_t ADD COLUMN c int DEFAULT a.b.c.f();'),
    ('CREATE INDEX ON otherdb.public.odd_t (v);')
) AS q(sql)
LEFT JOIN LATERAL migrate_lint(q.sql) l ON true
GROUP BY q.sql ORDER BY q.sql;
-- The same names of this database are looked up as usual.
SELECT rule FROM migrate_lint(format('DROP TABLE %I.public.odd_t;', current_database()));
SELECT rule FROM migrate_lint(format('ALTER TABLE odd_t ALTER COLUMN v TYPE %I.pg_catalog.int4;', current_database()));
-- The statements themselves still fail, with PostgreSQL's error.
DELETE FROM otherdb.public.odd_t;
DROP TABLE odd_t;
DROP EXTENSION pgmig;
