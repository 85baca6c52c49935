#!/usr/bin/env python3
"""Random rollback-test cases for rollback_test_scope_test.sh.

Prints one SQL script: a base schema, then for each case a migration (random DDL in up, and in down
its inverse, often made wrong on purpose: an inverse left out, a wrong value restored, an unrelated
object changed) tested by migrate_test() with pgmig.rollback_test_scope = touched and = full, and by
migrate_apply_tested() (its application undone). Each case adds the rows where they disagree to the table
scope_mismatch (also when migrate_apply_tested applied a migration that failed a check, did not apply one
that passed, or left drift), and how the touched scope decided to scope_decided. No DDL runs outside
migrations after the base schema's snapshot: migrate_apply_tested keeps the test's last run of up only
then. Usage: rollback_scope_cases.py SEED CASES ROLE (a role the script creates)
"""
import random
import sys

BASE = """
CREATE ROLE {role} NOLOGIN;
CREATE EXTENSION citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE SEQUENCE order_no INCREMENT 1;
CREATE TABLE customers (id int PRIMARY KEY, name text DEFAULT 'anon', mood mood, score posint, email citext);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric DEFAULT 0,
                     no bigint DEFAULT nextval('order_no'));
CREATE TABLE items (id serial PRIMARY KEY, order_id int REFERENCES orders ON DELETE CASCADE, sku text);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX items_sku_idx ON items (sku);
CREATE FUNCTION order_total(o orders) RETURNS numeric LANGUAGE sql STABLE AS 'SELECT o.total';
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 2 * x';
CREATE VIEW big_orders AS SELECT o.id, o.customer_id, order_total(o) AS total FROM orders o WHERE o.total > 100;
CREATE VIEW customer_names AS SELECT id, name FROM customers;
CREATE VIEW vip AS SELECT id FROM customer_names WHERE twice(id) > 10;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER items_touch BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TABLE customers IS 'who buys';
COMMENT ON COLUMN orders.total IS 'in cents';
CREATE SCHEMA archive;
CREATE TABLE archive.old_orders (id int, note text);
"""

# Created with the base schema (no DDL outside migrations comes after its snapshot): the results of each case
# are kept in settings of the session, as jsonb, and read back by these.
HELPERS = """
CREATE SCHEMA scope_test;
-- The checks of the rows kept in `setting` (steps 0 to 5), a passing comparison's detail left out.
CREATE FUNCTION scope_test.checks(setting text)
    RETURNS TABLE (step int, check_name text, passed boolean, detail text, differing text, shown text)
    LANGUAGE sql STABLE AS $f$
    SELECT r.step, r.check_name, r.passed, CASE WHEN r.passed AND r.step IN (3, 5) THEN NULL ELSE r.detail END,
           r.differing::text, r.detail
      FROM jsonb_to_recordset(current_setting(setting)::jsonb)
           AS r(step int, check_name text, passed boolean, detail text, differing jsonb)
     WHERE r.step <= 5 $f$;
-- migrate_apply_tested(version), its application undone: its rows in scope.apply, step 6's detail in
-- scope.applied ('' when it applied nothing), and drift and fingerprints after it in scope.after.
CREATE FUNCTION scope_test.apply_tested(version text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE rows jsonb; drift bigint; same boolean; ns text;
BEGIN
    BEGIN
        SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]') INTO rows FROM migrate_apply_tested(version) t;
        -- (a migration may have renamed public, the extension's schema: its functions that call others through
        -- it, such as migrate_drift() and the fingerprints, then fail; these do not)
        ns := (SELECT e.extnamespace::regnamespace::text FROM pg_extension e WHERE e.extname = 'pgmig');
        EXECUTE format('SELECT count(*) FROM %s.migrate_drift(false)', ns) INTO drift;
        same := (SELECT jsonb_object_agg(object_key, description) FROM pgmig.snapshot_objects())
                = (SELECT jsonb_object_agg(object_key, description) FROM pgmig.expected_schema());
        RAISE EXCEPTION 'undo the application';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    PERFORM set_config('scope.apply', rows::text, false),
            set_config('scope.applied', coalesce((SELECT r->>'detail' FROM jsonb_array_elements(rows) r
                                                   WHERE (r->>'step')::int = 6), ''), false),
            set_config('scope.after', jsonb_build_object('drift', drift, 'same', same)::text, false);
END $f$;
-- What is wrong with how migrate_apply_tested applied: applied although a check failed, not applied though
-- every check passed, drift left.
CREATE FUNCTION scope_test.application_problems() RETURNS SETOF text LANGUAGE sql STABLE AS $f$
    WITH failed AS (SELECT EXISTS (SELECT FROM scope_test.checks('scope.full') WHERE passed IS NOT TRUE) AS any),
         after AS (SELECT (current_setting('scope.after')::jsonb->>'drift')::bigint AS drift,
                          (current_setting('scope.after')::jsonb->>'same')::boolean AS same)
    SELECT 'applied although a check failed' FROM failed WHERE failed.any AND current_setting('scope.applied') <> ''
    UNION ALL
    SELECT 'not applied although every check passed' FROM failed
     WHERE NOT failed.any AND current_setting('scope.applied') = ''
    UNION ALL
    SELECT format('applied, then %s drift, fingerprints equal: %s', after.drift, after.same) FROM after
     WHERE current_setting('scope.applied') <> '' AND (after.drift <> 0 OR NOT after.same) $f$;
"""

TABLES = ["customers", "orders", "items", "archive.old_orders"]


class Case:
    def __init__(self, rng, n, role):
        self.rng = rng
        self.n = n
        self.role = role
        self.up = []
        self.down = []  # inverses, in the order of up; reversed at the end

    def pair(self, up, down):
        self.up.append(up)
        self.down.append(down)

    def op(self, kind=None):
        r, n, role = self.rng, self.n, self.role
        t = r.choice(TABLES)
        kind = r.randrange(24) if kind is None else kind
        if kind == 0:
            self.pair(f"ALTER TABLE {t} ADD COLUMN c{n} int DEFAULT {r.randrange(9)};",
                      f"ALTER TABLE {t} DROP COLUMN c{n};")
        elif kind == 1:
            self.pair(f"CREATE INDEX ix{n} ON {t} (id);", f"DROP INDEX {t.split('.')[0] + '.' if '.' in t else ''}ix{n};")
        elif kind == 2:
            self.pair("ALTER TABLE customers RENAME COLUMN name TO full_name;",
                      "ALTER TABLE customers RENAME COLUMN full_name TO name;")
        elif kind == 3:
            self.pair("ALTER TABLE orders RENAME TO purchases;", "ALTER TABLE purchases RENAME TO orders;")
        elif kind == 4:
            self.pair("ALTER TABLE customers ALTER COLUMN name SET DEFAULT 'nobody';",
                      r.choice(["ALTER TABLE customers ALTER COLUMN name SET DEFAULT 'anon';"] * 3 +
                               ["ALTER TABLE customers ALTER COLUMN name DROP DEFAULT;"]))
        elif kind == 5:
            self.pair(f"COMMENT ON TABLE {t} IS 'case {n}';",
                      f"COMMENT ON TABLE {t} IS {'$$who buys$$' if t == 'customers' else 'NULL'};")
        elif kind == 6:
            self.pair(f"CREATE VIEW v{n} AS SELECT id FROM {t};", f"DROP VIEW v{n};")
        elif kind == 7:
            self.pair(f"GRANT SELECT ON {t} TO {role};", f"REVOKE SELECT ON {t} FROM {role};")
        elif kind == 8:
            self.pair(f"ALTER TABLE {t} ADD CONSTRAINT ck{n} CHECK (id > -{n});",
                      f"ALTER TABLE {t} DROP CONSTRAINT ck{n};")
        elif kind == 9:
            self.pair(f"CREATE FUNCTION f{n}() RETURNS int LANGUAGE sql AS 'SELECT {n}';", f"DROP FUNCTION f{n}();")
        elif kind == 10:
            self.pair("ALTER FUNCTION twice(int) RENAME TO double_it;", "ALTER FUNCTION double_it(int) RENAME TO twice;")
        elif kind == 11:
            self.pair("ALTER SEQUENCE order_no INCREMENT 5;", "ALTER SEQUENCE order_no INCREMENT 1;")
        elif kind == 12:
            self.pair("ALTER TABLE items RENAME CONSTRAINT items_pkey TO items_key;",
                      "ALTER TABLE items RENAME CONSTRAINT items_key TO items_pkey;")
        elif kind == 13:
            self.pair(f"CREATE TRIGGER tr{n} AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();",
                      f"DROP TRIGGER tr{n} ON orders;")
        elif kind == 14:
            self.pair("ALTER TABLE items DISABLE TRIGGER items_touch;", "ALTER TABLE items ENABLE TRIGGER items_touch;")
        elif kind == 15:
            self.pair(f"CREATE SCHEMA s{n}; ALTER TABLE archive.old_orders SET SCHEMA s{n};",
                      f"ALTER TABLE s{n}.old_orders SET SCHEMA archive; DROP SCHEMA s{n};")
        elif kind == 16:
            self.pair(f"ALTER TABLE {t} OWNER TO {role};", f"ALTER TABLE {t} OWNER TO CURRENT_USER;")
        elif kind == 17:  # GRANT on a function: reported without its objects (the full comparison decides)
            self.pair(f"GRANT EXECUTE ON FUNCTION twice(int) TO {role};",
                      f"REVOKE EXECUTE ON FUNCTION twice(int) FROM {role};")
        elif kind == 18:
            self.pair("ALTER TYPE mood RENAME VALUE 'ok' TO 'fine';", "ALTER TYPE mood RENAME VALUE 'fine' TO 'ok';")
        elif kind == 19:
            self.pair("ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 1000000);",
                      "ALTER DOMAIN posint DROP CONSTRAINT small;")
        elif kind == 20:  # DDL run from a DO block
            self.pair(f"DO $d$ BEGIN EXECUTE 'CREATE TABLE dyn{n} (id int REFERENCES customers)'; END $d$;",
                      f"DO $d$ BEGIN EXECUTE 'DROP TABLE dyn{n}'; END $d$;")
        elif kind == 21:  # changes only what other objects' descriptions say: public is not described itself
            self.pair("ALTER SCHEMA public RENAME TO pub;", "ALTER SCHEMA pub RENAME TO public;")
        elif kind == 22:  # nor are an extension's objects
            self.pair("ALTER TYPE citext RENAME TO ci;", "ALTER TYPE ci RENAME TO citext;")
        else:
            self.pair(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; CREATE POLICY p{n} ON {t} USING (id > {n});",
                      f"DROP POLICY p{n} ON {t}; ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;")

    def spoil(self):
        """Makes the down script wrong in one of the ways down scripts go wrong."""
        r, n = self.rng, self.n
        way = r.randrange(4)
        if way == 0 and self.down:
            del self.down[r.randrange(len(self.down))]  # an inverse left out
        elif way == 1:  # an unrelated, existing object changed too
            self.down.append(r.choice([
                "DROP INDEX items_sku_idx;",
                "COMMENT ON COLUMN orders.total IS 'in euros';",
                "ALTER TABLE archive.old_orders ALTER COLUMN note SET DEFAULT 'x';",
                "DROP VIEW vip;",
                "ALTER VIEW customer_names RENAME TO names;",
                f"GRANT UPDATE ON items TO {self.role};",
                "ALTER TABLE customers ALTER COLUMN score SET NOT NULL;",
                "CREATE OR REPLACE FUNCTION order_total(o orders) RETURNS numeric LANGUAGE sql STABLE AS 'SELECT o.total + 0';",
                # seen only in what other objects say (customers.email): the type is the extension's
                "ALTER TYPE citext RENAME TO ci2;",
            ]))
        elif way == 2:  # a new object left behind
            self.down.append(f"CREATE TABLE leftover{n} (id int);")
        else:  # a wrong value restored
            self.down.append("ALTER SEQUENCE order_no INCREMENT 2;")

    def scripts(self):
        # (a down script with no inverse left still runs: migrate_test needs one)
        return "\n".join(self.up), "\n".join(reversed(self.down)) or "SELECT 1;"


def main():
    seed, cases, role = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    out = [BASE.format(role=role)]
    out.append("CREATE TABLE scope_mismatch (n int, scope text, step int, check_name text, passed boolean, "
               "detail text, differing text);")
    out.append("CREATE TABLE scope_decided (n int, touched_passed boolean, touched_detail text, applied text);")
    out.append(HELPERS)
    # The mark of pgmig test's scratch databases (common/scratch_database.hpp): migrate_apply_tested keeps the
    # test's last run of up only there.
    out.append("DO $d$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS %L', current_database(), "
               "'pgmig test scratch database: made for one test run and dropped after it; its data does not matter'); END $d$;")
    # The base schema's snapshot: the expected schema is the live one from here on.
    out.append("SELECT migrate_register('0001', 'base', 'SELECT 1;') IS NOT NULL;")
    out.append("SELECT count(*) FROM migrate_apply();")
    for n in range(1, cases + 1):
        case = Case(rng, n, role)
        if n == 1:
            # one pass decided on the whole schema in every run, whatever the seed: the test asks for each
            # way of deciding, and a random run has only a few of these (none, now and then)
            case.op(kind=17)
        else:
            for _ in range(rng.randint(1, 3)):
                case.op()
            if rng.random() < 0.45:
                case.spoil()
        up, down = case.scripts()
        version = str(1000 + n)
        out.append(f"-- case {n}\n-- up:\n--   " + up.replace("\n", "\n--   ") + "\n-- down:\n--   " +
                   down.replace("\n", "\n--   "))
        out.append(f"SELECT migrate_register('{version}', 'case_{n}', $up${up}$up$, $down${down}$down$) IS NOT NULL;")
        for scope in ("touched", "full"):
            out.append(f"SET pgmig.rollback_test_scope = {scope};")
            out.append(f"SELECT set_config('scope.{scope}', coalesce((SELECT jsonb_agg(to_jsonb(t)) "
                       f"FROM migrate_test('{version}') t), '[]')::text, false) IS NOT NULL;")
        out.append("SET pgmig.rollback_test_scope = touched;")
        out.append(f"SELECT scope_test.apply_tested('{version}');")
        # A passing comparison is worded by how it compared; everything else must be the same.
        for other in ("touched", "apply"):
            out.append(f"""INSERT INTO scope_mismatch
    SELECT {n}, 'only {other}', step, check_name, passed, detail, differing FROM
      (SELECT step, check_name, passed, detail, differing FROM scope_test.checks('scope.{other}')
       EXCEPT SELECT step, check_name, passed, detail, differing FROM scope_test.checks('scope.full')) x
    UNION ALL
    SELECT {n}, 'only full vs {other}', step, check_name, passed, detail, differing FROM
      (SELECT step, check_name, passed, detail, differing FROM scope_test.checks('scope.full')
       EXCEPT SELECT step, check_name, passed, detail, differing FROM scope_test.checks('scope.{other}')) y;""")
        out.append(f"""INSERT INTO scope_mismatch
    SELECT {n}, 'apply', 6, 'applied', NULL, problem, NULL FROM scope_test.application_problems() problem;""")
        out.append(f"INSERT INTO scope_decided SELECT {n}, passed, shown, current_setting('scope.applied') "
                   f"FROM scope_test.checks('scope.touched') WHERE step = 3;")
        out.append(f"DELETE FROM pgmig.migrations WHERE version = '{version}';")
    print("\n".join(out))


if __name__ == "__main__":
    main()
