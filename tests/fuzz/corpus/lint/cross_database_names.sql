-- Inputs found by scripts/fuzz lint: names of another database (and of more than three parts) made
-- migrate_lint raise 0A000 "cross-database references are not implemented" or 42601; they are now
-- names the lint does not know. Seeds of the lint driver; test/sql/security_lint_odd_names.sql checks them.
DELETE FROM pgmig.hisgmig.historytory;
DROP TABLE otherdb.public.t;
DROP INDEX otherdb.public.i;
DROP TABLE a.b.c.d;
DROP INDEX a.b.c.d;
ALTER TABLE otherdb.public.t ADD COLUMN c int NOT NULL;
ALTER TABLE t ALTER COLUMN v TYPE otherdb.s.typ;
ALTER TABLE t ALTER COLUMN v TYPE a.b.c.d;
ALTER TABLE t ADD COLUMN c int DEFAULT otherdb.s.f();
ALTER TABLE t ADD COLUMN c int DEFAULT a.b.c.f();
CREATE INDEX ON otherdb.public.t (v);
