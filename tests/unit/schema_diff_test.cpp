// Unit tests of client/schema_diff: hand-written snapshots in, statements, order, safe forms, withheld
// steps, renames and down out. (The round trip against a real server is tests/integration/diff_roundtrip_test.sh.)
#include "client/diff/schema_diff.hpp"
#include "client/diff/shadow.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sd = pgmig::schema_diff;
using nlohmann::json;

namespace {

json col(const std::string& name, const std::string& type, bool not_null = false) {
    return {{"name", name}, {"type", type}, {"not_null", not_null}};
}

json table(json columns, json constraints = json::object()) {
    json t = {{"kind", "r"}, {"persistence", "p"}, {"columns", std::move(columns)}};
    if (!constraints.empty()) t["constraints"] = std::move(constraints);
    return t;
}

json index(const std::string& def, const std::string& constraint = "") {
    json i = {{"kind", "i"}, {"persistence", "p"}, {"definition", def}};
    if (!constraint.empty()) i["constraint"] = constraint;
    return i;
}

// Position of the first statement containing `needle` in `statements`, or -1.
long find(const std::vector<sd::Statement>& statements, const std::string& needle) {
    for (size_t i = 0; i < statements.size(); ++i)
        if (statements[i].sql.find(needle) != std::string::npos) return static_cast<long>(i);
    return -1;
}

sd::Options allow() {
    sd::Options o;
    o.allow_destructive = true;
    return o;
}

}  // namespace

// The members every reader takes as their default when absent go as a snapshot is read; the others stay.
TEST(SnapshotReading, MembersHoldingTheirDefaultAreDropped) {
    json t = table({col("id", "bigint", true), col("note", "text")});
    pgmig::client::drop_default_members(t);
    EXPECT_FALSE(t.contains("persistence"));
    EXPECT_EQ(t["columns"][0]["not_null"], true);
    EXPECT_FALSE(t["columns"][1].contains("not_null"));
    json unlogged = {{"kind", "r"}, {"persistence", "u"}, {"columns", "not an array"}};
    pgmig::client::drop_default_members(unlogged);
    EXPECT_EQ(unlogged["persistence"], "u");
    EXPECT_EQ(unlogged["columns"], "not an array");
    // the engine sees no difference between a description with and without them
    const json a = {{"table public.t", table({col("id", "bigint", true), col("note", "text")})}};
    json b = a;
    pgmig::client::drop_default_members(b["table public.t"]);
    const sd::Result r = sd::diff(a, b, allow());
    EXPECT_TRUE(r.empty());
    EXPECT_TRUE(r.unsupported.empty());
}

TEST(SchemaDiff, IdenticalSnapshotsGiveNothing) {
    json s = {{"table public.t", table({col("id", "integer", true)})}};
    sd::Result r = sd::diff(s, s, {});
    EXPECT_TRUE(r.empty());
    EXPECT_TRUE(r.main.down.empty());
    EXPECT_TRUE(r.withheld.empty());
    EXPECT_TRUE(r.unsupported.empty());
}

TEST(SchemaDiff, NewTablesInDependencyOrderWithForeignKeysLast) {
    json from = json::object();
    json to = {
        {"schema app", {{"acl", nullptr}, {"comment", nullptr}}},
        {"type app.mood", {{"kind", "e"}, {"labels", {"ok", "bad"}}}},
        {"table app.orders", table({col("id", "integer", true), col("customer", "integer"), col("m", "app.mood")},
                                   {{"orders_pkey", "PRIMARY KEY (id)"},
                                    {"orders_customer_fkey", "FOREIGN KEY (customer) REFERENCES app.customers(id)"}})},
        {"index app.orders_pkey",
         index("CREATE UNIQUE INDEX orders_pkey ON app.orders USING btree (id)", "orders_pkey")},
        {"table app.customers", table({col("id", "integer", true)}, {{"customers_pkey", "PRIMARY KEY (id)"}})},
        {"index app.customers_pkey",
         index("CREATE UNIQUE INDEX customers_pkey ON app.customers USING btree (id)", "customers_pkey")},
        {"index app.orders_m", index("CREATE INDEX orders_m ON app.orders USING btree (m)")},
    };
    sd::Result r = sd::diff(from, to, {});
    const auto& up = r.main.up;
    long schema = find(up, "CREATE SCHEMA app;");
    long type = find(up, "CREATE TYPE app.mood AS ENUM ('ok', 'bad');");
    long orders = find(up, "CREATE TABLE app.orders");
    long customers = find(up, "CREATE TABLE app.customers");
    long fk = find(up, "ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer) REFERENCES app.customers(id);");
    long idx = find(up, "CREATE INDEX orders_m ON app.orders USING btree (m);");
    ASSERT_GE(schema, 0);
    EXPECT_LT(schema, type);
    EXPECT_LT(type, orders);
    EXPECT_LT(orders, fk);
    EXPECT_LT(customers, fk);
    EXPECT_GE(idx, 0);
    // a new table's index is built in the main migration, the constraint's index is not built twice
    EXPECT_TRUE(r.post.up.empty());
    EXPECT_EQ(find(up, "CREATE UNIQUE INDEX orders_pkey"), -1);
    EXPECT_NE(up[static_cast<size_t>(orders)].sql.find("CONSTRAINT orders_pkey PRIMARY KEY (id)"), std::string::npos);
    // down undoes in reverse: the foreign key goes before the tables, the schema last
    const auto& down = r.main.down;
    EXPECT_LT(find(down, "DROP CONSTRAINT orders_customer_fkey"), find(down, "DROP TABLE app.customers;"));
    EXPECT_LT(find(down, "DROP TABLE app.orders;"), find(down, "DROP TYPE app.mood;"));
    EXPECT_EQ(find(down, "DROP SCHEMA app;"), static_cast<long>(down.size()) - 1);
}

TEST(SchemaDiff, PartitionsAfterTheirParentAndInheritedPartsLeftToIt) {
    json parent = table({col("id", "integer", true), col("k", "integer", true)}, {{"p_pkey", "PRIMARY KEY (id, k)"}});
    parent["kind"] = "p";
    parent["partition_key"] = "RANGE (k)";
    json part = table({col("id", "integer", true), col("k", "integer", true)}, {{"p1_pkey", "PRIMARY KEY (id, k)"}});
    part["columns"][0]["inherited"] = true;
    part["columns"][1]["inherited"] = true;
    part["inherited_constraints"] = {"p1_pkey"};
    part["partition_of"] = {"public.p", "FOR VALUES FROM (0) TO (10)"};
    json to = {{"table public.p1", part}, {"table public.p", parent}};
    sd::Result r = sd::diff(json::object(), to, {});
    long p = find(r.main.up, "CREATE TABLE public.p (");
    long p1 = find(r.main.up, "CREATE TABLE public.p1 PARTITION OF public.p FOR VALUES FROM (0) TO (10);");
    ASSERT_GE(p, 0);
    ASSERT_GE(p1, 0);
    EXPECT_LT(p, p1);
    EXPECT_NE(r.main.up[static_cast<size_t>(p)].sql.find(") PARTITION BY RANGE (k);"), std::string::npos);
}

TEST(SchemaDiff, DroppedColumnIsWithheldUnlessAllowed) {
    json from = {{"table public.t", table({col("id", "integer", true), col("legacy", "text")})}};
    json to = {{"table public.t", table({col("id", "integer", true)})}};
    sd::Result r = sd::diff(from, to, {});
    EXPECT_TRUE(r.empty());
    ASSERT_EQ(r.withheld.size(), 1U);
    EXPECT_EQ(r.withheld[0].subject, "column public.t.legacy");
    EXPECT_EQ(r.withheld[0].sql, "ALTER TABLE public.t DROP COLUMN legacy;");
    EXPECT_TRUE(r.main.down.empty());  // not undone either

    sd::Result a = sd::diff(from, to, allow());
    ASSERT_EQ(a.main.up.size(), 1U);
    EXPECT_NE(a.main.up[0].sql.find("\n-- pgmig:allow drop-column\nALTER TABLE"), std::string::npos);
    EXPECT_TRUE(a.main.up[0].destructive);
    ASSERT_EQ(a.main.down.size(), 1U);
    EXPECT_EQ(a.main.down[0].sql, "ALTER TABLE public.t ADD COLUMN legacy text;");
}

TEST(SchemaDiff, WideningIsNotDestructiveNarrowingIs) {
    json from = {{"table public.t", table({col("n", "integer"), col("s", "character varying(20)")})}};
    json to = {{"table public.t", table({col("n", "bigint"), col("s", "character varying(40)")})}};
    sd::Result r = sd::diff(from, to, {});
    EXPECT_TRUE(r.withheld.empty());
    EXPECT_GE(find(r.main.up, "ALTER TABLE public.t ALTER COLUMN n TYPE bigint USING n::bigint;"), 0);
    EXPECT_GE(find(r.main.down, "ALTER TABLE public.t ALTER COLUMN n TYPE integer USING n::integer;"), 0);
    // the type change trips alter-column-type: waived for exactly that rule
    EXPECT_NE(r.main.up[0].sql.find("\n-- pgmig:allow alter-column-type\nALTER TABLE"), std::string::npos);

    sd::Result back = sd::diff(to, from, {});
    EXPECT_TRUE(back.empty());
    ASSERT_EQ(back.withheld.size(), 2U);
    EXPECT_NE(back.withheld[0].reason.find("may lose data"), std::string::npos);
}

TEST(SchemaDiff, ProbableColumnRenameIsReportedAndItsDropWithheld) {
    json from = {{"table public.users", table({col("id", "integer", true), col("name", "text")})}};
    json to = {{"table public.users", table({col("id", "integer", true), col("full_name", "text")})}};
    sd::Result r = sd::diff(from, to, allow());
    ASSERT_EQ(r.probable_renames.size(), 1U);
    EXPECT_EQ(r.probable_renames[0].kind, "column");
    EXPECT_EQ(r.probable_renames[0].from, "public.users.name");
    EXPECT_EQ(r.probable_renames[0].to, "public.users.full_name");
    EXPECT_EQ(find(r.main.up, "DROP COLUMN name"), -1);  // even with allow_destructive
    EXPECT_GE(find(r.main.up, "ADD COLUMN full_name text"), 0);
    ASSERT_EQ(r.withheld.size(), 1U);

    sd::Options confirmed = allow();
    confirmed.renames.push_back({"column", "public.users.name", "public.users.full_name"});
    sd::Result c = sd::diff(from, to, confirmed);
    EXPECT_TRUE(c.probable_renames.empty());
    ASSERT_EQ(c.main.up.size(), 1U);
    EXPECT_EQ(c.main.up[0].sql, "ALTER TABLE public.users RENAME COLUMN name TO full_name;");
    EXPECT_EQ(c.main.down[0].sql, "ALTER TABLE public.users RENAME COLUMN full_name TO name;");

    sd::Options none = allow();
    none.no_renames = true;
    sd::Result n = sd::diff(from, to, none);
    EXPECT_TRUE(n.probable_renames.empty());
    EXPECT_GE(find(n.main.up, "DROP COLUMN name"), 0);
}

TEST(SchemaDiff, ProbableTableRenameAndConfirmedOne) {
    json t = table({col("id", "integer", true)}, {{"customers_pkey", "PRIMARY KEY (id)"}});
    json from = {{"table public.customers", t},
                 {"index public.customers_pkey",
                  index("CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)", "customers_pkey")}};
    json t2 = table({col("id", "integer", true)}, {{"clients_pkey", "PRIMARY KEY (id)"}});
    json to = {{"table public.clients", t2},
               {"index public.clients_pkey",
                index("CREATE UNIQUE INDEX clients_pkey ON public.clients USING btree (id)", "clients_pkey")}};
    sd::Result r = sd::diff(from, to, allow());
    ASSERT_EQ(r.probable_renames.size(), 1U);
    EXPECT_EQ(r.probable_renames[0].kind, "table");
    EXPECT_EQ(find(r.main.up, "DROP TABLE public.customers"), -1);

    sd::Options o = allow();
    o.renames.push_back({"table", "public.customers", "public.clients"});
    sd::Result c = sd::diff(from, to, o);
    ASSERT_EQ(c.main.up.size(), 2U);
    EXPECT_EQ(c.main.up[0].sql, "ALTER TABLE public.customers RENAME TO clients;");
    EXPECT_EQ(c.main.up[1].sql, "ALTER INDEX public.customers_pkey RENAME TO clients_pkey;");
    EXPECT_EQ(c.main.down[1].sql, "ALTER TABLE public.clients RENAME TO customers;");
}

TEST(SchemaDiff, SafeFormsOnExistingTables) {
    json from = {{"table public.t", table({col("id", "integer", true), col("a", "integer"), col("b", "integer")})}};
    json to = {{"table public.t", table({col("id", "integer", true), col("a", "integer", true), col("b", "integer")},
                                        {{"t_pkey", "PRIMARY KEY (id)"}, {"t_a_check", "CHECK (a > 0)"}})},
               {"index public.t_pkey", index("CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)", "t_pkey")},
               {"index public.t_b", index("CREATE INDEX t_b ON public.t USING btree (b)")}};
    sd::Result r = sd::diff(from, to, {});
    EXPECT_GE(find(r.main.up, "ALTER TABLE public.t ADD CONSTRAINT t_a_check CHECK (a > 0) NOT VALID;"), 0);
    EXPECT_GE(find(r.main.up, "ADD CONSTRAINT a_not_null CHECK (a IS NOT NULL) NOT VALID;"), 0);
    EXPECT_EQ(find(r.main.up, "CREATE INDEX"), -1);
    EXPECT_GE(find(r.post.up, "ALTER TABLE public.t VALIDATE CONSTRAINT t_a_check;"), 0);
    long v = find(r.post.up, "VALIDATE CONSTRAINT a_not_null;");
    long nn = find(r.post.up, "ALTER COLUMN a SET NOT NULL;");
    long dc = find(r.post.up, "DROP CONSTRAINT a_not_null;");
    EXPECT_LT(v, nn);
    EXPECT_LT(nn, dc);
    EXPECT_GE(find(r.post.up, "CREATE INDEX CONCURRENTLY t_b ON public.t USING btree (b);"), 0);
    long ui = find(r.post.up, "CREATE UNIQUE INDEX CONCURRENTLY t_pkey ON public.t USING btree (id);");
    long pk = find(r.post.up, "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;");
    ASSERT_GE(ui, 0);
    EXPECT_LT(ui, pk);
    EXPECT_GE(find(r.post.down, "DROP INDEX CONCURRENTLY IF EXISTS public.t_b;"), 0);
    for (const auto& s : r.post.up) EXPECT_EQ(s.phase, sd::Phase::post);

    sd::Options plain;
    plain.safe_forms = false;
    sd::Result p = sd::diff(from, to, plain);
    EXPECT_TRUE(p.post.up.empty());
    EXPECT_GE(find(p.main.up, "ALTER COLUMN a SET NOT NULL;"), 0);
}

TEST(SchemaDiff, EnumValuesAddedInOrderAndRemovalWithheld) {
    json from = {
        {"type public.mood", {{"kind", "e"}, {"labels", {"ok", "bad"}}}},
        {"table public.t",
         table({{{"name", "m"}, {"type", "public.mood"}, {"not_null", false}, {"default", "'ok'::public.mood"}}})}};
    json to = from;
    to["type public.mood"]["labels"] = {"great", "ok", "meh", "bad"};
    sd::Result r = sd::diff(from, to, {});
    ASSERT_EQ(r.main.up.size(), 2U);
    EXPECT_EQ(r.main.up[0].sql, "ALTER TYPE public.mood ADD VALUE 'great' BEFORE 'ok';");
    EXPECT_EQ(r.main.up[1].sql, "ALTER TYPE public.mood ADD VALUE 'meh' AFTER 'ok';");
    // down cannot remove a value: it recreates the type and converts the column
    EXPECT_GE(find(r.main.down, "ALTER TYPE public.mood RENAME TO mood__pgmig_old;"), 0);
    EXPECT_GE(find(r.main.down, "ALTER COLUMN m TYPE public.mood USING m::text::public.mood;"), 0);
    EXPECT_GE(find(r.main.down, "DROP TYPE public.mood__pgmig_old;"), 0);

    sd::Result back = sd::diff(to, from, {});
    EXPECT_TRUE(back.empty());
    ASSERT_EQ(back.withheld.size(), 1U);
    EXPECT_NE(back.withheld[0].reason.find("removes enum value(s) great, meh"), std::string::npos);
}

TEST(SchemaDiff, ViewsOverARetypedColumnAreDroppedAndRecreatedAroundIt) {
    json v = {{"kind", "v"},
              {"persistence", "p"},
              {"columns", {col("n", "integer")}},
              {"definition", " SELECT t.n\n   FROM public.t;"},
              {"depends_on", {"table public.t"}}};
    json w = {{"kind", "v"},
              {"persistence", "p"},
              {"columns", {col("n", "integer")}},
              {"definition", " SELECT v.n\n   FROM public.v;"},
              {"depends_on", {"view public.v"}}};
    json from = {{"table public.t", table({col("n", "integer")})}, {"view public.v", v}, {"view public.w", w}};
    json to = from;
    to["table public.t"]["columns"][0]["type"] = "bigint";
    to["view public.v"]["columns"][0]["type"] = "bigint";
    to["view public.w"]["columns"][0]["type"] = "bigint";
    sd::Result r = sd::diff(from, to, {});
    const auto& up = r.main.up;
    long drop_w = find(up, "DROP VIEW public.w;");
    long drop_v = find(up, "DROP VIEW public.v;");
    long alter = find(up, "ALTER COLUMN n TYPE bigint");
    long create_v = find(up, "CREATE VIEW public.v AS");
    long create_w = find(up, "CREATE VIEW public.w AS");
    ASSERT_GE(drop_w, 0);
    EXPECT_LT(drop_w, drop_v);
    EXPECT_LT(drop_v, alter);
    EXPECT_LT(alter, create_v);
    EXPECT_LT(create_v, create_w);
    EXPECT_EQ(up[static_cast<size_t>(create_v)].sql, "CREATE VIEW public.v AS\n SELECT t.n\n   FROM public.t;");
}

TEST(SchemaDiff, ColumnOrderThatCannotBeReachedIsAWarningNotABlocker) {
    json from = {{"table public.t", table({col("a", "integer"), col("c", "integer")})}};
    json to = {{"table public.t", table({col("a", "integer"), col("b", "text"), col("c", "integer")})}};
    sd::Result r = sd::diff(from, to, {});
    EXPECT_GE(find(r.main.up, "ALTER TABLE public.t ADD COLUMN b text;"), 0);
    EXPECT_TRUE(r.unsupported.empty());
    ASSERT_EQ(r.column_order.size(), 1U);
    EXPECT_EQ(r.column_order[0].table, "public.t");
    EXPECT_EQ(r.column_order[0].live, (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(r.column_order[0].desired, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_FALSE(r.column_order[0].rebuilt);
    EXPECT_EQ(find(r.main.up, "__pgmig_reorder"), -1);
}

TEST(SchemaDiff, ReorderColumnsRebuildsTheTableLastAndBackInDown) {
    // the live table has c before a (dropped and added again); the desired one a, b, c
    json from = {
        {"table public.t", table({col("c", "integer"), col("a", "integer", true)}, {{"t_pkey", "PRIMARY KEY (a)"}})},
        {"index public.t_pkey", index("CREATE UNIQUE INDEX t_pkey ON public.t USING btree (a)", "t_pkey")},
        {"index public.t_c", index("CREATE INDEX t_c ON public.t USING btree (c)")}};
    json to = from;
    to["table public.t"]["columns"] = {col("a", "integer", true), col("b", "text"), col("c", "integer")};
    sd::Options o;
    o.reorder_columns = true;
    sd::Result r = sd::diff(from, to, o);
    ASSERT_EQ(r.column_order.size(), 1U);
    EXPECT_TRUE(r.column_order[0].rebuilt);
    long add = find(r.main.up, "ADD COLUMN b text");
    long create = find(r.main.up, "CREATE TABLE public.t__pgmig_reorder (");
    long copy = find(r.main.up, "INSERT INTO public.t__pgmig_reorder (a, b, c)");
    long drop = find(r.main.up, "DROP TABLE public.t;");
    long index = find(r.main.up, "CREATE INDEX t_c ON public.t__pgmig_reorder USING btree (c)");
    long rename = find(r.main.up, "ALTER TABLE public.t__pgmig_reorder RENAME TO t;");
    ASSERT_GE(add, 0);
    EXPECT_LT(add, create);
    EXPECT_LT(create, copy);
    EXPECT_LT(copy, drop);
    EXPECT_LT(drop, index);
    EXPECT_LT(index, rename);
    EXPECT_EQ(rename, static_cast<long>(r.main.up.size()) - 1);
    EXPECT_GE(find(r.main.up, "ADD CONSTRAINT t_pkey PRIMARY KEY (a)"), 0);
    EXPECT_TRUE(r.post.up.empty());  // no safe forms for a rebuilt table
    // down: the column dropped, then the old order rebuilt, last
    long down_drop = find(r.main.down, "DROP COLUMN b");
    long down_copy = find(r.main.down, "INSERT INTO public.t__pgmig_reorder (c, a)");
    ASSERT_GE(down_drop, 0);
    EXPECT_LT(down_drop, down_copy);
}

TEST(SchemaDiff, ReorderColumnsRefusesATableUnderAMaterializedView) {
    json from = {{"table public.t", table({col("a", "integer"), col("c", "integer")})},
                 {"materialized view public.m",
                  {{"kind", "m"}, {"definition", " SELECT t.a FROM public.t;"}, {"depends_on", {"table public.t"}}}}};
    json to = from;
    to["table public.t"]["columns"] = {col("a", "integer"), col("b", "text"), col("c", "integer")};
    sd::Options o;
    o.reorder_columns = true;
    sd::Result r = sd::diff(from, to, o);
    ASSERT_EQ(r.column_order.size(), 1U);
    EXPECT_FALSE(r.column_order[0].rebuilt);
    EXPECT_NE(r.column_order[0].refused.find("materialized view public.m"), std::string::npos);
    EXPECT_GE(find(r.main.up, "ADD COLUMN b text"), 0);
    EXPECT_EQ(find(r.main.up, "__pgmig_reorder"), -1);
}

TEST(SchemaDiff, UnsupportedObjectsAreNamedNeverDropped) {
    // (aggregates and event triggers are diffed now: the kinds left unsupported are these)
    json from = {{"operator family public.fam USING btree", json::object()},
                 {"user mapping for app on server remote", json::object()}};
    sd::Result r = sd::diff(from, json::object(), allow());
    EXPECT_TRUE(r.empty());
    ASSERT_EQ(r.unsupported.size(), 2U);
    EXPECT_NE(r.unsupported[0].find("operator family public.fam USING btree"), std::string::npos);
    EXPECT_NE(r.unsupported[1].find("user mapping for app on server remote"), std::string::npos);
}

TEST(SchemaDiff, FunctionsGrantsCommentsAndPolicies) {
    const std::string f1 =
        "CREATE OR REPLACE FUNCTION public.f(x integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$select "
        "x$function$\n";
    const std::string f2 =
        "CREATE OR REPLACE FUNCTION public.f(x integer)\n RETURNS bigint\n LANGUAGE sql\nAS $function$select "
        "x$function$\n";
    json t = table({col("id", "integer")});
    json from = {{"function public.f(integer)", {{"definition", f1}}}, {"table public.t", t}};
    json to = from;
    to["function public.f(integer)"]["definition"] = f2;
    to["table public.t"]["comment"] = "it's";
    to["table public.t"]["acl"] = {"OWNER:DELETE",  "OWNER:INSERT",   "OWNER:REFERENCES", "OWNER:SELECT",
                                   "OWNER:TRIGGER", "OWNER:TRUNCATE", "OWNER:UPDATE",     "reader:SELECT"};
    to["policy p on public.t"] = {{"command", "r"}, {"permissive", true}, {"roles", {"reader"}}, {"using", "(id > 0)"}};
    sd::Result r = sd::diff(from, to, {});
    const auto& up = r.main.up;
    EXPECT_EQ(up[0].sql, "SET LOCAL check_function_bodies = off;");
    // a new return type: drop and create again
    long drop = find(up, "DROP FUNCTION public.f(integer);");
    long create = find(up, "RETURNS bigint");
    ASSERT_GE(drop, 0);
    EXPECT_LT(drop, create);
    EXPECT_GE(find(up, "COMMENT ON TABLE public.t IS 'it''s';"), 0);
    EXPECT_GE(find(up, "GRANT SELECT ON TABLE public.t TO reader;"), 0);
    EXPECT_GE(find(up, "CREATE POLICY p ON public.t AS PERMISSIVE FOR SELECT TO reader USING ((id > 0));"), 0);
    EXPECT_GE(find(r.main.down, "REVOKE SELECT ON TABLE public.t FROM reader;"), 0);
    EXPECT_GE(find(r.main.down, "COMMENT ON TABLE public.t IS NULL;"), 0);
}

// From PostgreSQL 17 an owner holds MAINTAIN on its tables by default: a table going from no ACL (the
// default) to one granting a role something must not grant or revoke the owner's MAINTAIN on 17, and on 15
// (which has no such privilege) the default has none.
TEST(SchemaDiff, OwnerDefaultTablePrivilegesFollowTheServerVersion) {
    const json from = {{"table public.t", table({col("id", "integer")})}};
    json to = from;
    to["table public.t"]["acl"] = {"OWNER:DELETE",  "OWNER:INSERT",   "OWNER:MAINTAIN", "OWNER:REFERENCES",
                                   "OWNER:SELECT",  "OWNER:TRIGGER",  "OWNER:TRUNCATE", "OWNER:UPDATE",
                                   "reader:SELECT"};
    sd::Options on17;
    on17.server_version_num = 170004;
    for (const auto& [a, b] : {std::pair{from, to}, std::pair{to, from}}) {
        sd::Result r = sd::diff(a, b, on17);
        EXPECT_EQ(find(r.main.up, "MAINTAIN"), -1) << sd::render(r.main.up);
        EXPECT_EQ(find(r.main.down, "MAINTAIN"), -1) << sd::render(r.main.down);
        EXPECT_GE(find(r.main.up, "reader"), 0);
    }
    // the same ACL read as a 15 server's: MAINTAIN is not the owner's default there
    sd::Result r15 = sd::diff(from, to, {});
    EXPECT_GE(find(r15.main.up, "GRANT MAINTAIN ON TABLE public.t TO"), 0) << sd::render(r15.main.up);
}

TEST(SchemaDiff, RenderSeparatesStatementsByABlankLine) {
    std::vector<sd::Statement> s = {{"SELECT 1;", "x", sd::Phase::main, false},
                                    {"SELECT 2;", "y", sd::Phase::main, false}};
    EXPECT_EQ(sd::render(s), "SELECT 1;\n\nSELECT 2;\n");
    EXPECT_EQ(sd::render({}), "");
}

namespace {

// t(id) with rows; the desired t adds `c` NOT NULL (with `def` as its default when given).
json nn_from() { return {{"table public.t", table({col("id", "integer", true)})}}; }
json nn_to(const std::string& def = "") {
    json c = col("c", "text", true);
    if (!def.empty()) c["default"] = def;
    return {{"table public.t", table({col("id", "integer", true), c}, {{"t_c_check", "CHECK ((c <> ''::text))"}})},
            {"index public.t_c", index("CREATE INDEX t_c ON public.t USING btree (c)")}};
}
sd::Options rows(long long n) {
    sd::Options o;
    o.table_rows["public.t"] = sd::TableRows{n, false, ""};
    return o;
}

}  // namespace

TEST(SchemaDiffNotNull, WithRowsAndNoDefaultTheNotNullIsWithheldAndTheColumnComesFirst) {
    sd::Result r = sd::diff(nn_from(), nn_to(), rows(3));
    ASSERT_GE(find(r.main.up, "ALTER TABLE public.t ADD COLUMN c text;"), 0);
    EXPECT_EQ(find(r.main.up, "ADD COLUMN c text;"), 0);  // before the check, and before anything else
    EXPECT_GT(find(r.main.up, "t_c_check"), find(r.main.up, "ADD COLUMN c text;"));
    EXPECT_EQ(find(r.main.up, "c_not_null"), -1);
    EXPECT_EQ(find(r.post.up, "SET NOT NULL"), -1);
    ASSERT_EQ(r.withheld.size(), 1U);
    EXPECT_TRUE(r.withheld[0].needs_value);
    EXPECT_EQ(r.withheld[0].subject, "column public.t.c");
    EXPECT_NE(r.withheld[0].reason.find("public.t has 3 rows"), std::string::npos);
    EXPECT_NE(r.withheld[0].reason.find("--backfill 'public.t.c=EXPRESSION'"), std::string::npos);
    EXPECT_EQ(r.withheld[0].sql, "ALTER TABLE public.t ALTER COLUMN c SET NOT NULL;");
    // --allow-destructive does not release it
    sd::Options o = rows(3);
    o.allow_destructive = true;
    EXPECT_EQ(sd::diff(nn_from(), nn_to(), o).withheld.size(), 1U);
    // rows not counted, or unknown: withheld too, saying so
    sd::Result uncounted = sd::diff(nn_from(), nn_to(), {});
    ASSERT_EQ(uncounted.withheld.size(), 1U);
    EXPECT_NE(uncounted.withheld[0].reason.find("were not counted"), std::string::npos);
    sd::Options unknown;
    unknown.table_rows["public.t"] = sd::TableRows{-1, false, "no SELECT privilege"};
    sd::Result u = sd::diff(nn_from(), nn_to(), unknown);
    ASSERT_EQ(u.withheld.size(), 1U);
    EXPECT_NE(u.withheld[0].reason.find("no SELECT privilege"), std::string::npos);
    sd::Options many;
    many.table_rows["public.t"] = sd::TableRows{10000, true, ""};
    EXPECT_NE(sd::diff(nn_from(), nn_to(), many).withheld[0].reason.find("more than 10000 rows"), std::string::npos);
}

TEST(SchemaDiffNotNull, AnEmptyTableGetsAPlainNotNull) {
    sd::Result r = sd::diff(nn_from(), nn_to(), rows(0));
    EXPECT_TRUE(r.withheld.empty());
    long add = find(r.main.up, "ALTER TABLE public.t ADD COLUMN c text NOT NULL;");
    ASSERT_GE(add, 0);
    EXPECT_NE(r.main.up[add].sql.find("-- pgmig:allow add-column-not-null-no-default"), std::string::npos);
    EXPECT_GT(find(r.main.up, "t_c_check"), add);
    EXPECT_EQ(find(r.post.up, "SET NOT NULL"), -1);
}

TEST(SchemaDiffNotNull, ADefaultIsOneStatementAndAVolatileOneSaysItRewrites) {
    sd::Result r = sd::diff(nn_from(), nn_to("'x'::text"), rows(3));
    EXPECT_TRUE(r.withheld.empty());
    EXPECT_EQ(r.main.up[0].sql, "ALTER TABLE public.t ADD COLUMN c text DEFAULT 'x'::text NOT NULL;");
    EXPECT_EQ(find(r.main.up, "c_not_null"), -1);
    sd::Result v = sd::diff(nn_from(), nn_to("(gen_random_uuid())::text"), rows(3));
    long add = find(v.main.up, "ADD COLUMN c text DEFAULT (gen_random_uuid())::text NOT NULL;");
    ASSERT_GE(add, 0);
    EXPECT_NE(v.main.up[add].sql.find("is volatile: PostgreSQL rewrites public.t"), std::string::npos);
    sd::Result s = sd::diff(nn_from(), nn_to("(now())::text"), rows(3));
    EXPECT_NE(s.main.up[0].sql.find("is stable"), std::string::npos);
    EXPECT_EQ(s.main.up[0].sql.find("rewrites"), std::string::npos);
}

TEST(SchemaDiffNotNull, BackfillAddsUpdatesThenSetsNotNullSafely) {
    sd::Options o = rows(3);
    o.backfills.push_back({"public.t", "c", "'n/a'", "t.c='n/a'"});
    sd::Result r = sd::diff(nn_from(), nn_to(), o);
    EXPECT_TRUE(r.withheld.empty());
    long add = find(r.main.up, "ALTER TABLE public.t ADD COLUMN c text;");
    long chk = find(r.main.up, "ALTER TABLE public.t ADD CONSTRAINT c_not_null CHECK (c IS NOT NULL) NOT VALID;");
    ASSERT_GE(add, 0);
    EXPECT_GT(chk, add);
    long upd = find(r.post.up, "UPDATE public.t SET c = COALESCE(c, 'n/a') WHERE c IS NULL;");
    long val = find(r.post.up, "VALIDATE CONSTRAINT c_not_null;");
    long nn = find(r.post.up, "ALTER COLUMN c SET NOT NULL;");
    long drop = find(r.post.up, "DROP CONSTRAINT c_not_null;");
    ASSERT_GE(upd, 0);
    EXPECT_LT(upd, val);
    EXPECT_LT(val, nn);
    EXPECT_LT(nn, drop);
    EXPECT_GE(find(r.post.down, "ALTER COLUMN c DROP NOT NULL;"), 0);
    EXPECT_GE(find(r.main.down, "DROP COLUMN c;"), 0);
    // the other direction: dropping c (with --allow-destructive) adds it back in down with the backfill
    o.allow_destructive = true;
    sd::Result back = sd::diff(nn_to(), nn_from(), o);
    long readd = find(back.main.down, "ALTER TABLE public.t ADD COLUMN c text;");
    long fill = find(back.main.down, "UPDATE public.t SET c = 'n/a' WHERE c IS NULL;");
    long set = find(back.main.down, "ALTER TABLE public.t ALTER COLUMN c SET NOT NULL;");
    ASSERT_GE(readd, 0);
    EXPECT_LT(readd, fill);
    EXPECT_LT(fill, set);
}

TEST(SchemaDiffNotNull, WithoutSafeFormsItIsAPlainNotNull) {
    sd::Options plain;
    plain.safe_forms = false;
    sd::Result r = sd::diff(nn_from(), nn_to(), plain);
    EXPECT_TRUE(r.withheld.empty());
    EXPECT_GE(find(r.main.up, "ALTER TABLE public.t ADD COLUMN c text NOT NULL;"), 0);
}

// Owners: the desired owner when it is not the migration's role, for kept and new objects; a role the
// target lacks is named in unsupported and that object's owner left alone, the rest still written.
TEST(SchemaDiff, OwnersAreWrittenAndMissingRolesNamed) {
    json t = table({col("id", "integer")});
    json kept = t;
    kept["owner"] = "app";
    json from = {{"table public.kept", kept}, {"table public.other", kept}};
    json to = from;
    to["table public.kept"]["owner"] = "\"App Owner\"";
    to["table public.other"]["owner"] = "ghost";
    json fresh = t;
    fresh["owner"] = "loader";  // the role that loaded the desired schema: the migration's role in the target
    to["table public.fresh"] = fresh;
    json given = t;
    given["owner"] = "\"App Owner\"";
    to["table public.given"] = given;
    sd::Options o;
    o.migration_role = "deployer";
    o.desired_role = "loader";
    o.roles_known = true;
    o.target_roles = {"app", "deployer", "\"App Owner\""};
    sd::Result r = sd::diff(from, to, o);
    EXPECT_GE(find(r.main.up, "ALTER TABLE public.kept OWNER TO \"App Owner\";"), 0);
    EXPECT_GE(find(r.main.down, "ALTER TABLE public.kept OWNER TO app;"), 0);
    EXPECT_GE(find(r.main.up, "ALTER TABLE public.given OWNER TO \"App Owner\";"), 0);
    EXPECT_EQ(find(r.main.up, "public.fresh OWNER"), -1);
    EXPECT_EQ(find(r.main.up, "ghost"), -1);
    ASSERT_EQ(r.unsupported.size(), 1U);
    EXPECT_NE(r.unsupported[0].find("table public.other: its owner ghost is not a role of the target"),
              std::string::npos);
}

// A privilege granted by another role than the owner: granted as that role, after the grant option it
// needs; revoked as that role, before the grant option goes.
TEST(SchemaDiff, GrantsByAnotherGrantorRunAsThatRole) {
    json t = table({col("id", "integer"), col("name", "text")});
    json from = {{"table public.t", t}};
    json to = from;
    to["table public.t"]["acl"] = {"OWNER:DELETE",
                                   "OWNER:INSERT",
                                   "OWNER:REFERENCES",
                                   "OWNER:SELECT",
                                   "OWNER:TRIGGER",
                                   "OWNER:TRUNCATE",
                                   "OWNER:UPDATE",
                                   "reader:SELECT BY writer",
                                   "writer:SELECT WITH GRANT OPTION"};
    to["table public.t"]["columns"][1]["acl"] = {"reader:UPDATE BY writer"};
    sd::Result r = sd::diff(from, to, {});
    const auto& up = r.main.up;
    long option = find(up, "GRANT SELECT ON TABLE public.t TO writer WITH GRANT OPTION;");
    long as_writer = find(up, "GRANT SELECT ON TABLE public.t TO reader GRANTED BY writer;");
    ASSERT_GE(option, 0);
    ASSERT_GT(as_writer, option);
    EXPECT_EQ(up[static_cast<size_t>(as_writer) - 1].sql, "SET ROLE writer;");
    EXPECT_EQ(up[static_cast<size_t>(as_writer) + 1].sql, "RESET ROLE;");
    EXPECT_GE(find(up, "GRANT UPDATE (name) ON TABLE public.t TO reader GRANTED BY writer;"), 0);
    const auto& down = r.main.down;
    long revoke_as_writer = find(down, "REVOKE SELECT ON TABLE public.t FROM reader GRANTED BY writer;");
    long revoke_option = find(down, "REVOKE SELECT ON TABLE public.t FROM writer;");
    ASSERT_GE(revoke_as_writer, 0);
    EXPECT_LT(revoke_as_writer, revoke_option);
}

// Default privileges: the difference, global ones against PostgreSQL's built-in default, before objects.
TEST(SchemaDiff, DefaultPrivilegesBeforeTheObjects) {
    json to = {
        {"default acl for role app in schema s on tables",
         {{"role", "app"}, {"schema", "s"}, {"on", "TABLES"}, {"acl", {"reader:SELECT"}}}},
        {"default acl for role app on functions", {{"role", "app"}, {"on", "FUNCTIONS"}, {"acl", {"OWNER:EXECUTE"}}}},
        {"schema s", json::object()},
        {"table s.t", table({col("id", "integer")})}};
    sd::Result r = sd::diff(json::object(), to, {});
    const auto& up = r.main.up;
    long schema = find(up, "CREATE SCHEMA s;");
    long tables = find(up, "ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA s GRANT SELECT ON TABLES TO reader;");
    long functions = find(up, "ALTER DEFAULT PRIVILEGES FOR ROLE app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;");
    long table_at = find(up, "CREATE TABLE s.t");
    ASSERT_GE(tables, 0);
    ASSERT_GE(functions, 0);
    EXPECT_LT(schema, tables);
    EXPECT_LT(tables, table_at);
    // the new table: the default privileges' roles first lose what the defaults gave them
    EXPECT_GE(find(up, "REVOKE ALL ON TABLE s.t FROM reader;"), 0);
    EXPECT_GE(find(r.main.down, "ALTER DEFAULT PRIVILEGES FOR ROLE app GRANT EXECUTE ON FUNCTIONS TO PUBLIC;"), 0);
    EXPECT_TRUE(r.unsupported.empty());
}
