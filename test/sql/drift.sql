-- Snapshots, fingerprints and drift.
\set SHOW_CONTEXT never
CREATE ROLE regress_pgmig_builder;
CREATE DATABASE regress_pgmig_a;
CREATE DATABASE regress_pgmig_b;

-- Canonical: the same schema built in another order, in another database, by another role and then given
-- to the same owners, gives byte-identical snapshots.
\c regress_pgmig_a
CREATE EXTENSION pgmig;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, m mood);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers, total numeric(12,2) CHECK (total >= 0));
CREATE INDEX orders_customer ON orders (customer_id);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE FUNCTION order_count(bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM orders WHERE customer_id = $1';
GRANT SELECT ON orders TO pgmig_reader;
COMMENT ON TABLE orders IS 'what was ordered';
SELECT migrate_fingerprint() AS fingerprint_a, migrate_snapshot()::text AS snapshot_a \gset
SELECT count(*) AS objects FROM migrate_fingerprint_objects();

\c regress_pgmig_b
CREATE EXTENSION pgmig;
GRANT CREATE ON SCHEMA public TO regress_pgmig_builder;
SET ROLE regress_pgmig_builder;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, m mood);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric(12,2));
COMMENT ON TABLE orders IS 'what was ordered';
CREATE FUNCTION order_count(bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM orders WHERE customer_id = $1';
ALTER TABLE orders ADD CHECK (total >= 0);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE INDEX orders_customer ON orders (customer_id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers;
GRANT SELECT ON orders TO pgmig_reader;
RESET ROLE;
-- Owners are part of the schema: another owner is another snapshot, object by object.
SELECT migrate_fingerprint() = :'fingerprint_a' AS same_fingerprint;
SELECT object_type, identity, description ->> 'owner' AS owner FROM pgmig.snapshot_objects()
 WHERE description ? 'owner' ORDER BY object_key;
REASSIGN OWNED BY regress_pgmig_builder TO CURRENT_USER;
SELECT migrate_fingerprint() = :'fingerprint_a' AS same_fingerprint, migrate_snapshot()::text = :'snapshot_a' AS same_snapshot;

-- Each kind of change flips the fingerprint, and the per-object fingerprints name the object.
CREATE TEMP TABLE before_objects AS SELECT * FROM migrate_fingerprint_objects() LIMIT 0;
CREATE FUNCTION pg_temp.flipped(change text) RETURNS TABLE (change_made text, flipped boolean, objects text)
LANGUAGE plpgsql AS $$
DECLARE
    before_fp text := migrate_fingerprint();
BEGIN
    TRUNCATE before_objects;
    INSERT INTO before_objects SELECT * FROM migrate_fingerprint_objects();
    EXECUTE change;
    RETURN QUERY SELECT change, migrate_fingerprint() <> before_fp,
        (SELECT string_agg(coalesce(a.object_type, b.object_type) || ' ' || coalesce(a.identity, b.identity), ', '
                           ORDER BY coalesce(a.identity, b.identity))
           FROM migrate_fingerprint_objects() a FULL JOIN before_objects b USING (object_type, identity)
          WHERE a.fingerprint IS DISTINCT FROM b.fingerprint);
END $$;
SELECT * FROM pg_temp.flipped('ALTER TABLE customers ADD COLUMN note text');
SELECT * FROM pg_temp.flipped('ALTER TABLE customers ALTER COLUMN note SET DEFAULT ''none''');
SELECT * FROM pg_temp.flipped('ALTER TABLE customers ALTER COLUMN note SET NOT NULL');
SELECT * FROM pg_temp.flipped('ALTER TABLE customers ALTER COLUMN email TYPE varchar(200)');
SELECT * FROM pg_temp.flipped('CREATE INDEX customers_note ON customers (note)');
SELECT * FROM pg_temp.flipped('ALTER TABLE orders DROP CONSTRAINT orders_total_check');
SELECT * FROM pg_temp.flipped('CREATE OR REPLACE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000');
SELECT * FROM pg_temp.flipped('CREATE OR REPLACE FUNCTION order_count(bigint) RETURNS bigint LANGUAGE sql STABLE AS ''SELECT 0::bigint''');
SELECT * FROM pg_temp.flipped('ALTER TYPE mood ADD VALUE ''ecstatic''');
SELECT * FROM pg_temp.flipped('GRANT INSERT ON orders TO pgmig_reader');
SELECT * FROM pg_temp.flipped('COMMENT ON COLUMN orders.total IS ''in euros''');
SELECT * FROM pg_temp.flipped('ALTER TABLE orders ENABLE ROW LEVEL SECURITY');
SELECT * FROM pg_temp.flipped('CREATE POLICY own ON orders USING (customer_id = 1)');
SELECT * FROM pg_temp.flipped('CREATE SEQUENCE invoice_numbers START 1000');
SELECT * FROM pg_temp.flipped('CREATE DOMAIN positive AS integer CHECK (VALUE > 0)');
SELECT * FROM pg_temp.flipped('CREATE TRIGGER no_op BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()');
-- Owners, default privileges, grants made by another role than the owner, column grants.
SELECT * FROM pg_temp.flipped('ALTER TABLE orders OWNER TO regress_pgmig_builder');
SELECT * FROM pg_temp.flipped('ALTER FUNCTION order_count(bigint) OWNER TO regress_pgmig_builder');
SELECT * FROM pg_temp.flipped('ALTER DOMAIN positive OWNER TO regress_pgmig_builder');
SELECT * FROM pg_temp.flipped('ALTER DEFAULT PRIVILEGES FOR ROLE regress_pgmig_builder GRANT SELECT ON TABLES TO pgmig_reader');
SELECT * FROM pg_temp.flipped('ALTER DEFAULT PRIVILEGES FOR ROLE regress_pgmig_builder IN SCHEMA public GRANT USAGE ON SEQUENCES TO pgmig_reader');
SELECT * FROM pg_temp.flipped('GRANT SELECT ON customers TO regress_pgmig_builder WITH GRANT OPTION');
SELECT * FROM pg_temp.flipped('DO $d$ BEGIN SET ROLE regress_pgmig_builder; GRANT SELECT ON customers TO pgmig_reader; RESET ROLE; END $d$');
SELECT * FROM pg_temp.flipped('GRANT UPDATE (email) ON customers TO pgmig_reader');
-- (MAINTAIN, a table privilege from PostgreSQL 17 on, is left out: the same output on every version)
SELECT object_type, identity, (description -> 'acl') - 'OWNER:MAINTAIN' AS acl FROM pgmig.snapshot_objects()
 WHERE object_type IN ('default acl', 'table') AND identity NOT LIKE '%invoice%' ORDER BY object_key;
SELECT string_agg(c ->> 'name' || ': ' || (c -> 'acl')::text, ', ') AS column_acls
  FROM pgmig.snapshot_objects(), jsonb_array_elements(description -> 'columns') c
 WHERE identity = 'public.customers' AND c ? 'acl';
-- A column grant taken back leaves the column as it was (PostgreSQL keeps an empty ACL, not none).
SELECT migrate_fingerprint() AS before_column_grant \gset
GRANT SELECT (note) ON customers TO pgmig_reader;
REVOKE SELECT (note) ON customers FROM pgmig_reader;
SELECT migrate_fingerprint() = :'before_column_grant' AS same_after_revoke;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_pgmig_builder REVOKE SELECT ON TABLES FROM pgmig_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_pgmig_builder IN SCHEMA public REVOKE USAGE ON SEQUENCES FROM pgmig_reader;
-- Not schema: data and temporary objects leave it alone.
SELECT * FROM pg_temp.flipped('INSERT INTO customers (email) VALUES (''a@example.com'')');
SELECT * FROM pg_temp.flipped('CREATE TEMP TABLE scratch (id int)');

-- Drift: after apply the ledger stores the schema it produced; out-of-band changes show up with
-- who made them, when and with which statement.
\c regress_pgmig_a
\set SHOW_CONTEXT never
SELECT migrate_register('1', 'invoices', 'CREATE TABLE invoices (id bigint PRIMARY KEY, order_id bigint REFERENCES orders);')
    IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT count(*) AS drift FROM migrate_drift();
SELECT reason, migrate_expected_fingerprint() = migrate_fingerprint() AS matches_live FROM pgmig.snapshots ORDER BY id DESC LIMIT 1;
GRANT CREATE ON SCHEMA public TO regress_pgmig_builder;
ALTER TABLE invoices OWNER TO regress_pgmig_builder;
SET ROLE regress_pgmig_builder;
ALTER TABLE invoices ADD COLUMN paid boolean NOT NULL DEFAULT false;
CREATE INDEX invoices_paid ON invoices (paid);
RESET ROLE;
DROP VIEW big_orders;
SELECT object_type, identity, change, detail, changed_by, statement FROM migrate_drift();
-- Applying a migration adopts the live schema as the expected one again.
SELECT migrate_register('2', 'noop', 'COMMENT ON TABLE invoices IS ''invoices'';') IS NOT NULL AS registered;
SELECT version, action FROM migrate_apply();
SELECT count(*) AS drift FROM migrate_drift();

-- The wrappers without arguments name the extension's schema by its OID, not by the name it had at
-- CREATE EXTENSION: they still work after that schema is renamed.
ALTER SCHEMA public RENAME TO app_public;
SELECT count(*) > 0 AS drift_seen FROM app_public.migrate_drift();
SELECT app_public.migrate_expected_fingerprint() ~ '^[0-9a-f]{64}$' AS expected_fingerprint;
ALTER SCHEMA app_public RENAME TO public;
SELECT count(*) AS drift FROM migrate_drift();

\c contrib_regression
DROP DATABASE regress_pgmig_a;
DROP DATABASE regress_pgmig_b;
DROP ROLE regress_pgmig_builder;
