-- A table owner's code evaluated by migrate_check_integrity() (a NOT VALID CHECK's expression, a foreign
-- key's equality operator or implicit cast, a view behind an owned sequence) runs as that owner inside a
-- security-restricted operation, never with the rights of the (superuser) caller.
\set SHOW_CONTEXT never
CREATE DATABASE regress_pgmig_integrity_owner;
\c regress_pgmig_integrity_owner
CREATE EXTENSION pgmig;
CREATE ROLE regress_integrity_owner;
GRANT CREATE ON DATABASE regress_pgmig_integrity_owner TO regress_integrity_owner;

-- The attacker owns a schema and some tables. app.note() records who runs it and tries to become
-- superuser; it is called from a CHECK expression, an equality operator, a btree comparator, an
-- implicit cast and a view.
SET ROLE regress_integrity_owner;
CREATE SCHEMA app;
CREATE TABLE app.ran (via text, current_user_name name, session_user_name name, had_superuser boolean,
                      escalation text);
CREATE FUNCTION app.note(via text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    BEGIN
        ALTER ROLE regress_integrity_owner SUPERUSER;
        outcome := 'ALTER ROLE ... SUPERUSER succeeded';
    EXCEPTION WHEN OTHERS THEN
        outcome := 'ALTER ROLE ... SUPERUSER failed: ' || SQLSTATE;
    END;
    BEGIN
        COPY (SELECT 1) TO PROGRAM 'true';
        outcome := outcome || ', COPY TO PROGRAM succeeded';
    EXCEPTION WHEN OTHERS THEN
        outcome := outcome || ', COPY TO PROGRAM failed: ' || SQLSTATE;
    END;
    INSERT INTO app.ran VALUES (via, current_user, session_user,
                                (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), outcome);
    RETURN true;
END
$$;

-- 1. A NOT VALID CHECK whose expression calls the attacker's function: two rows violate it.
CREATE FUNCTION app.positive(x numeric) RETURNS boolean LANGUAGE sql AS $$ SELECT app.note('check') AND x > 0 $$;
CREATE TABLE app.payments (id int PRIMARY KEY, amount numeric);
INSERT INTO app.payments VALUES (1, 10), (2, -5), (3, -7), (4, NULL);
ALTER TABLE app.payments ADD CONSTRAINT amount_positive CHECK (app.positive(amount)) NOT VALID;

-- 2. A foreign key whose equality operator is the attacker's function: the operator class is a
-- superuser's (CREATE OPERATOR CLASS needs one), its operator is not.
CREATE FUNCTION app.int_eq(a int4, b int4) RETURNS boolean LANGUAGE sql AS $$ SELECT app.note('fk operator') AND a = b $$;
CREATE OPERATOR app.=== (LEFTARG = int4, RIGHTARG = int4, FUNCTION = app.int_eq, COMMUTATOR = OPERATOR(app.===));
RESET ROLE;
CREATE OPERATOR CLASS app.int4_noted_ops FOR TYPE int4 USING btree AS
    OPERATOR 3 app.=== (int4, int4), FUNCTION 1 btint4cmp(int4, int4);
SET ROLE regress_integrity_owner;
CREATE TABLE app.parents (id int4 NOT NULL);
CREATE UNIQUE INDEX parents_id ON app.parents (id app.int4_noted_ops);
CREATE TABLE app.children (id int PRIMARY KEY, parent_id int4);
INSERT INTO app.parents VALUES (1), (2);
INSERT INTO app.children VALUES (1, 1), (2, 2), (3, 30), (4, NULL);
ALTER TABLE app.children ADD CONSTRAINT children_parent_fk FOREIGN KEY (parent_id) REFERENCES app.parents (id)
    NOT VALID;
SELECT o.oprname, o.oprcode FROM pg_constraint c JOIN pg_operator o ON o.oid = ANY (c.conpfeqop)
 WHERE c.conname = 'children_parent_fk';

-- 3. A foreign key from a type of the attacker's, compared through its implicit cast (no superuser needed).
CREATE TYPE app.code AS (n int4);
CREATE FUNCTION app.code_number(c app.code) RETURNS int4 LANGUAGE sql AS $$
    SELECT CASE WHEN app.note('fk cast') THEN c.n END $$;
CREATE CAST (app.code AS int4) WITH FUNCTION app.code_number(app.code) AS IMPLICIT;
CREATE TABLE app.products (id int4 PRIMARY KEY);
CREATE TABLE app.stock (id int PRIMARY KEY, product app.code);
INSERT INTO app.products VALUES (1);
INSERT INTO app.stock VALUES (1, ROW(1)), (2, ROW(5)), (3, ROW(6));
ALTER TABLE app.stock ADD CONSTRAINT stock_product_fk FOREIGN KEY (product) REFERENCES app.products NOT VALID;

-- 4. A sequence owned by a column of a view that calls the attacker's function (sequence-behind check).
CREATE VIEW app.numbers AS SELECT n AS id FROM generate_series(1, 3) n WHERE app.note('view');
CREATE SEQUENCE app.numbers_id_seq OWNED BY app.numbers.id;
RESET ROLE;
TRUNCATE app.ran;

-- A superuser checks integrity (without index scans, so that the foreign key's operator itself runs rather
-- than the operator class's built-in comparator): the findings are right...
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
SELECT problem, severity, object, count, sample FROM migrate_check_integrity()
 WHERE problem <> 'table-without-primary-key';
-- ...the owner did not become superuser...
SELECT rolsuper AS owner_is_superuser FROM pg_roles WHERE rolname = 'regress_integrity_owner';
-- ...and every piece of the owner's code ran as the owner, without superuser rights, in the caller's session.
SELECT DISTINCT via, current_user_name, session_user_name = session_user AS in_callers_session, had_superuser,
       escalation
  FROM app.ran ORDER BY via;
SELECT count(*) AS evaluations_with_superuser_rights FROM app.ran WHERE had_superuser;
-- The caller's identity and settings are back once it returns.
SELECT current_user = session_user AS caller_restored, current_setting('search_path') AS search_path;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
TRUNCATE app.ran;

-- A role that may not SELECT the tables gets not-checked and no count or sample; nothing is evaluated.
CREATE ROLE regress_integrity_outsider;
GRANT pgmig_reader TO regress_integrity_outsider;
SET ROLE regress_integrity_outsider;
SELECT problem, object, detail, count, sample FROM migrate_check_integrity()
 WHERE problem <> 'table-without-primary-key';
SELECT count, sample, not_checked FROM pgmig.constraint_violations(
    (SELECT oid FROM pg_constraint WHERE conname = 'amount_positive'));
RESET ROLE;
SELECT count(*) AS evaluations_for_outsider FROM app.ran;

-- A reader whose SELECT is narrowed by row-level security: the owner sees every row, so counting as the
-- owner would reveal rows hidden from the reader; the constraint is reported not-checked instead.
CREATE ROLE regress_integrity_reader;
GRANT pgmig_reader TO regress_integrity_reader;
SET ROLE regress_integrity_owner;
GRANT USAGE ON SCHEMA app TO regress_integrity_reader;
GRANT SELECT ON app.payments TO regress_integrity_reader;
ALTER TABLE app.payments ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_positive ON app.payments USING (amount > 0);
SET ROLE regress_integrity_reader;
SELECT problem, object, detail, count, sample FROM migrate_check_integrity()
 WHERE object LIKE '%app.payments%';
RESET ROLE;
ALTER TABLE app.payments DISABLE ROW LEVEL SECURITY;
SET ROLE regress_integrity_reader;
SELECT problem, object, count, sample FROM migrate_check_integrity() WHERE object LIKE '%app.payments%';
RESET ROLE;
TRUNCATE app.ran;

-- A foreign key whose owner may reference but not read the referenced table: checked (as the caller)
-- only when its operators and types are built in; with the attacker's operator, not checked.
CREATE ROLE regress_integrity_owner2;
GRANT CREATE ON DATABASE regress_pgmig_integrity_owner TO regress_integrity_owner2;
SET ROLE regress_integrity_owner;
GRANT USAGE ON SCHEMA app TO regress_integrity_owner2;
GRANT REFERENCES ON app.parents, app.products TO regress_integrity_owner2;
SET ROLE regress_integrity_owner2;
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, product int4, parent int4);
INSERT INTO shop.orders VALUES (1, 1, 1), (2, 9, 9);
ALTER TABLE shop.orders ADD CONSTRAINT orders_product_fk FOREIGN KEY (product) REFERENCES app.products NOT VALID;
ALTER TABLE shop.orders ADD CONSTRAINT orders_parent_fk FOREIGN KEY (parent) REFERENCES app.parents (id) NOT VALID;
RESET ROLE;
TRUNCATE app.ran;
SELECT problem, object, detail, count, sample FROM migrate_check_integrity() WHERE object LIKE '%shop.orders%';
-- (app.note ran for the checks of app's own tables, as their owner; never as regress_integrity_owner2)
SELECT DISTINCT current_user_name, had_superuser FROM app.ran;

\c contrib_regression
DROP DATABASE regress_pgmig_integrity_owner;
DROP ROLE regress_integrity_owner;
DROP ROLE regress_integrity_owner2;
DROP ROLE regress_integrity_outsider;
DROP ROLE regress_integrity_reader;
